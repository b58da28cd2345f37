import { createHash, timingSafeEqual } from 'node:crypto';
import { OUTPUT_CONTENT_TYPES, validateGenerateRequest } from '../upstream/flux.ts';
import { type FaultableRoute, httpFaultText, type SandboxFaults, takeHttpFault } from './faults.ts';
import {
  decodeCursor,
  encodeCursor,
  isExpired,
  type JobListQuery,
  type JobStore,
  jobPhase,
  jobView,
  type SandboxJob,
  type SandboxJobStatus,
} from './jobs.ts';
import type { RenderCache } from './render.ts';

/** The apiframe endpoints the service uses (contract §2–4), answered from the job store. */

export type Reply = { status: number; body: unknown; headers?: Record<string, string> };
export type FileReply = { bytes: Buffer; type: string };

export type ApiRequest = {
  method: string;
  /** Pathname only; the query is in `url`. */
  path: string;
  url: URL;
  /** Parsed JSON; undefined for an empty body. */
  body: unknown;
  invalidJson: boolean;
  apiKey: string | undefined;
  idempotencyKey: string | undefined;
};

/** Live state shared with the server: switches are replaced wholesale by setFaults/reset. */
export type ApiState = { faults: SandboxFaults; baseUrl: string };

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIST_STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'];

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function routeOf(method: string, path: string): FaultableRoute | undefined {
  if (method === 'POST' && path === '/v2/images/generate') {
    return 'generate';
  }
  if (method !== 'GET' && method !== 'HEAD') {
    return undefined;
  }
  if (path === '/v2/jobs') {
    return 'list';
  }
  if (path.startsWith('/v2/jobs/')) {
    return 'job';
  }
  if (path === '/v2/me') {
    return 'me';
  }
  return path.startsWith('/files/') ? 'files' : undefined;
}

export function createApiRoutes(deps: {
  apiKey: string;
  store: JobStore;
  renders: RenderCache;
  state: ApiState;
  /** Called with each new job (not for idempotent replays), e.g. to plan its webhooks. */
  onSubmit?: (job: SandboxJob) => void;
}): (incoming: ApiRequest) => Promise<Reply | FileReply> {
  const { apiKey, store, renders, state, onSubmit } = deps;
  const apiKeyDigest = sha256(apiKey);

  function authError(given: string | undefined): string | undefined {
    if (given === undefined || given === '') {
      return 'API key is required';
    }
    return timingSafeEqual(sha256(given), apiKeyDigest) ? undefined : 'Invalid API key';
  }

  function generate(incoming: ApiRequest, now: number): Reply {
    const { idempotencyKey } = incoming;
    const { faults } = state;
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length < 1 || idempotencyKey.length > 255)
    ) {
      return {
        status: 400,
        body: {
          error: 'Validation failed',
          details: { 'Idempotency-Key': ['Idempotency-Key must be 1-255 characters'] },
        },
      };
    }
    if (incoming.invalidJson) {
      return { status: 400, body: { error: 'Request body must be valid JSON' } };
    }
    const validation = validateGenerateRequest(incoming.body);
    if (!validation.ok) {
      const details: Record<string, string[]> = {};
      for (const issue of validation.issues) {
        const key = issue.path.length > 0 ? issue.path.join('.') : '(body)';
        details[key] = [...(details[key] ?? []), issue.message];
      }
      return { status: 400, body: { error: 'Validation failed', details } };
    }
    if (idempotencyKey !== undefined) {
      const check = store.checkIdempotency(idempotencyKey, validation.value, now);
      if (check.kind === 'replay') {
        return {
          status: 200,
          body: { jobId: check.job.id, status: jobPhase(check.job, now).status },
        };
      }
      if (check.kind === 'mismatch') {
        return {
          status: 409,
          body: { error: 'Idempotency key was already used with a different request body' },
        };
      }
    }
    if (faults.credits < faults.creditCost) {
      return {
        status: 402,
        body: {
          error: 'Insufficient credits',
          creditsRequired: faults.creditCost,
          creditsAvailable: faults.credits,
        },
      };
    }
    const job = store.submit(validation.value, faults, now, idempotencyKey);
    if (job.outcome !== 'fail') {
      faults.credits -= job.creditCost;
    }
    onSubmit?.(job);
    return { status: 202, body: { jobId: job.id, status: 'QUEUED' } };
  }

  function listJobs(url: URL, now: number): Reply {
    const { faults, baseUrl } = state;
    const details: Record<string, string[]> = {};
    const status = url.searchParams.get('status') ?? undefined;
    if (status !== undefined && !LIST_STATUSES.includes(status)) {
      details.status = [`status must be one of ${LIST_STATUSES.join(', ')}`];
    }
    const limitText = url.searchParams.get('limit') ?? '20';
    const limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= 100)) {
      details.limit = ['limit must be an integer between 1 and 100'];
    }
    const cursorText = url.searchParams.get('cursor') ?? undefined;
    const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (cursor === null) {
      details.cursor = ['cursor is invalid'];
    }
    const scope = url.searchParams.get('scope') ?? 'user';
    if (scope !== 'user' && scope !== 'team') {
      details.scope = ['scope must be user or team'];
    }
    if (Object.keys(details).length > 0) {
      return { status: 400, body: { error: 'Validation failed', details } };
    }
    if (scope === 'team') {
      return { status: 403, body: { error: 'Only team admins can list team jobs' } };
    }
    const query: JobListQuery = {
      status: status as SandboxJobStatus | undefined,
      model: url.searchParams.get('model') ?? undefined,
      search: url.searchParams.get('search') ?? undefined,
      limit,
      cursor: cursor ?? undefined,
    };
    const { page, hasMore } = store.list(query, now);
    const last = page.at(-1);
    return {
      status: 200,
      body: {
        jobs: page.map((job) => jobView(job, now, { baseUrl, urlTtlS: faults.urlTtlS })),
        nextCursor: hasMore && last !== undefined ? encodeCursor(last) : null,
        hasMore,
      },
    };
  }

  function getJob(id: string, now: number): Reply {
    if (!UUID_PATTERN.test(id)) {
      return {
        status: 400,
        body: { error: 'Validation failed', details: { id: ['id must be a UUID'] } },
      };
    }
    const job = store.jobs.get(id.toLowerCase());
    if (job === undefined) {
      return { status: 404, body: { error: 'Job not found' } };
    }
    return {
      status: 200,
      body: jobView(job, now, { baseUrl: state.baseUrl, urlTtlS: state.faults.urlTtlS }),
    };
  }

  function account(): Reply {
    const { faults } = state;
    return {
      status: 200,
      body: {
        user: { id: 'sandbox-user', email: 'sandbox@example.invalid', role: 'MEMBER' },
        team: {
          id: 'sandbox-team',
          name: 'Sandbox',
          plan: 'sandbox',
          credits: faults.credits,
          maxConcurrentJobs: 10,
        },
        apiKey: { id: 'sandbox-key', name: 'Sandbox key', prefix: apiKey.slice(0, 8) },
      },
    };
  }

  async function file(path: string, now: number): Promise<Reply | FileReply> {
    const { faults } = state;
    const match = /^\/files\/([^/]+)\/(\d+)\.(jpg|png|webp)$/.exec(path);
    const job = match?.[1] === undefined ? undefined : store.jobs.get(match[1]);
    if (!match || job === undefined || match[2] !== '0' || match[3] !== job.format) {
      return { status: 404, body: { error: 'File not found' } };
    }
    if (jobPhase(job, now).status !== 'COMPLETED') {
      return { status: 404, body: { error: 'File not found' } };
    }
    if (isExpired(job, now, faults.urlTtlS)) {
      return { status: 404, body: { error: 'File expired' } };
    }
    const bytes = await renders.render({
      prompt: job.prompt,
      seed: job.seed,
      width: job.width,
      height: job.height,
      format: job.format,
      quality: job.quality,
    });
    return { bytes, type: OUTPUT_CONTENT_TYPES[job.format] };
  }

  return async function handleApi(incoming: ApiRequest): Promise<Reply | FileReply> {
    const now = Date.now();
    const routeName = routeOf(incoming.method, incoming.path);
    if (routeName === undefined) {
      return { status: 404, body: { error: 'Not found' } };
    }
    const fault = takeHttpFault(state.faults.httpFaults, routeName);
    if (fault !== undefined) {
      const headers: Record<string, string> =
        fault.retryAfterS === undefined ? {} : { 'retry-after': String(fault.retryAfterS) };
      return { status: fault.status, body: { error: httpFaultText(fault) }, headers };
    }
    if (routeName === 'files') {
      return file(incoming.path, now);
    }
    const authProblem = authError(incoming.apiKey);
    if (authProblem !== undefined) {
      return { status: 401, body: { error: authProblem } };
    }
    switch (routeName) {
      case 'generate':
        return generate(incoming, now);
      case 'list':
        return listJobs(incoming.url, now);
      case 'me':
        return account();
      case 'job':
        return getJob(incoming.path.slice('/v2/jobs/'.length), now);
    }
  };
}
