import { randomInt, randomUUID } from 'node:crypto';
import {
  DEFAULT_OUTPUT_FORMAT,
  type GenerateRequest,
  type OutputFormat,
  renderedSize,
  SEED_MAX,
  type WebhookEvent,
} from '../upstream/flux.ts';
import type { ResultShape, SandboxFaults } from './faults.ts';

export type JobOutcome = 'complete' | 'fail' | 'cancel' | 'never-finish';
export type SandboxJobStatus = 'QUEUED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type WebhookStatus = 'pending' | 'delivered' | 'failed';

/** A job as the sandbox keeps it; its status is derived from the clock, not stored. */
export type SandboxJob = {
  id: string;
  model: string;
  prompt: string;
  /** The request body exactly as received (echoed as `input`). */
  input: GenerateRequest;
  /** The seed used: the requested one, or one picked at submit. */
  seed: number;
  format: OutputFormat;
  quality: number | undefined;
  width: number;
  height: number;
  webhookUrl: string | undefined;
  webhookEvents: WebhookEvent[] | undefined;
  /** null without a webhookUrl; set by the webhook sender once the last event was attempted. */
  webhookStatus: WebhookStatus | null;
  createdAtMs: number;
  latencyMs: number;
  outcome: JobOutcome;
  resultShape: ResultShape;
  creditCost: number;
};

export const FAILURE_MESSAGE = 'Provider returned an error: sandbox failure';
const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
// QUEUED for the first quarter of the latency, then PROCESSING.
export const QUEUED_SHARE = 0.25;

export type JobPhase = {
  status: SandboxJobStatus;
  progress: number | null;
  completedAtMs: number | null;
};

export function jobPhase(job: SandboxJob, now: number): JobPhase {
  const elapsed = now - job.createdAtMs;
  const queuedFor = job.latencyMs * QUEUED_SHARE;
  if (elapsed < queuedFor && job.latencyMs > 0) {
    return { status: 'QUEUED', progress: null, completedAtMs: null };
  }
  const doneAt = job.createdAtMs + job.latencyMs;
  if (job.outcome === 'never-finish' || now < doneAt) {
    const span = job.latencyMs - queuedFor;
    const share = span > 0 ? (elapsed - queuedFor) / span : 1;
    return {
      status: 'PROCESSING',
      progress: Math.max(0, Math.min(99, Math.floor(share * 100))),
      completedAtMs: null,
    };
  }
  if (job.outcome === 'fail') {
    return { status: 'FAILED', progress: null, completedAtMs: doneAt };
  }
  if (job.outcome === 'cancel') {
    // The spec lists CANCELLED as terminal without saying how a job gets there.
    return { status: 'CANCELLED', progress: null, completedAtMs: doneAt };
  }
  return { status: 'COMPLETED', progress: 100, completedAtMs: doneAt };
}

export function isExpired(job: SandboxJob, now: number, urlTtlS: number): boolean {
  const phase = jobPhase(job, now);
  return (
    phase.status === 'COMPLETED' &&
    phase.completedAtMs !== null &&
    now >= phase.completedAtMs + urlTtlS * 1000
  );
}

export function fileUrl(baseUrl: string, job: SandboxJob, index = 0): string {
  return `${baseUrl}/files/${job.id}/${index}.${job.format}`;
}

/** A completed job's `result`, in the shape fixed at submit. */
export function jobResult(job: SandboxJob, baseUrl: string): string | { images: string[] } {
  const url = fileUrl(baseUrl, job);
  return job.resultShape === 'string' ? url : { images: [url] };
}

/** The job as `GET /v2/jobs/:id` shows it (contract §3). */
export function jobView(
  job: SandboxJob,
  now: number,
  context: { baseUrl: string; urlTtlS: number },
): Record<string, unknown> {
  const phase = jobPhase(job, now);
  const result = phase.status === 'COMPLETED' ? jobResult(job, context.baseUrl) : null;
  const terminal = phase.completedAtMs !== null;
  return {
    id: job.id,
    status: phase.status,
    progress: phase.progress,
    result,
    error: phase.status === 'FAILED' ? FAILURE_MESSAGE : null,
    creditCost: !terminal ? null : phase.status === 'FAILED' ? 0 : job.creditCost,
    webhookStatus: job.webhookStatus,
    createdAt: new Date(job.createdAtMs).toISOString(),
    completedAt: terminal ? new Date(phase.completedAtMs ?? 0).toISOString() : null,
    model: job.model,
    input: job.input,
    expired: isExpired(job, now, context.urlTtlS),
  };
}

/** Key order must not matter when comparing an idempotent replay with the original body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

type IdempotencyEntry = { jobId: string; canonicalBody: string; atMs: number };

export type IdempotencyCheck =
  | { kind: 'new' }
  | { kind: 'replay'; job: SandboxJob }
  | { kind: 'mismatch' };

export type JobListQuery = {
  status?: SandboxJobStatus | 'CANCELLED';
  model?: string;
  search?: string;
  limit: number;
  cursor?: { createdAtMs: number; id: string };
};

export function encodeCursor(job: SandboxJob): string {
  return Buffer.from(JSON.stringify([job.createdAtMs, job.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAtMs: number; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return { createdAtMs: value[0], id: value[1] };
    }
  } catch {
    // fall through: not ours
  }
  return null;
}

/** Newest first, ties broken by id (descending), as upstream orders them. */
function newerFirst(a: SandboxJob, b: SandboxJob): number {
  if (a.createdAtMs !== b.createdAtMs) {
    return b.createdAtMs - a.createdAtMs;
  }
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function isBefore(job: SandboxJob, cursor: { createdAtMs: number; id: string }): boolean {
  return (
    job.createdAtMs < cursor.createdAtMs ||
    (job.createdAtMs === cursor.createdAtMs && job.id < cursor.id)
  );
}

export function createJobStore() {
  const jobs = new Map<string, SandboxJob>();
  const idempotency = new Map<string, IdempotencyEntry>();

  return {
    jobs: jobs as ReadonlyMap<string, SandboxJob>,

    /** Synchronous on purpose: concurrent duplicates cannot interleave between check and insert. */
    checkIdempotency(key: string, body: GenerateRequest, now: number): IdempotencyCheck {
      const entry = idempotency.get(key);
      if (entry === undefined || now - entry.atMs > IDEMPOTENCY_WINDOW_MS) {
        return { kind: 'new' };
      }
      const job = jobs.get(entry.jobId);
      if (job === undefined) {
        return { kind: 'new' };
      }
      return entry.canonicalBody === canonicalJson(body)
        ? { kind: 'replay', job }
        : { kind: 'mismatch' };
    },

    submit(
      body: GenerateRequest,
      faults: SandboxFaults,
      now: number,
      idempotencyKey: string | undefined,
      random: () => number = Math.random,
    ): SandboxJob {
      const params = body.fluxParams;
      const size = renderedSize(params);
      const roll = random();
      const outcome: JobOutcome =
        roll < faults.failRate
          ? 'fail'
          : roll < faults.failRate + faults.neverFinishRate
            ? 'never-finish'
            : roll < faults.failRate + faults.neverFinishRate + faults.cancelRate
              ? 'cancel'
              : 'complete';
      const job: SandboxJob = {
        id: randomUUID(),
        model: body.model,
        prompt: body.prompt,
        input: body,
        seed: params?.seed ?? randomInt(0, SEED_MAX),
        format: params?.output_format ?? DEFAULT_OUTPUT_FORMAT,
        quality: params?.output_quality,
        width: size.width,
        height: size.height,
        webhookUrl: body.webhookUrl,
        webhookEvents: body.webhookEvents,
        webhookStatus: body.webhookUrl === undefined ? null : 'pending',
        createdAtMs: now,
        latencyMs: faults.latencyMs,
        outcome,
        resultShape: faults.resultShape,
        creditCost: faults.creditCost,
      };
      jobs.set(job.id, job);
      if (idempotencyKey !== undefined) {
        idempotency.set(idempotencyKey, {
          jobId: job.id,
          canonicalBody: canonicalJson(body),
          atMs: now,
        });
      }
      return job;
    },

    list(query: JobListQuery, now: number): { page: SandboxJob[]; hasMore: boolean } {
      const matching = [...jobs.values()]
        .filter((job) => query.model === undefined || job.model === query.model)
        .filter((job) => query.search === undefined || job.id === query.search)
        .filter((job) => query.status === undefined || jobPhase(job, now).status === query.status)
        .filter((job) => query.cursor === undefined || isBefore(job, query.cursor))
        .sort(newerFirst);
      return { page: matching.slice(0, query.limit), hasMore: matching.length > query.limit };
    },

    clear(): void {
      jobs.clear();
      idempotency.clear();
    },
  };
}
export type JobStore = ReturnType<typeof createJobStore>;
