import { WEBHOOK_EVENTS, type WebhookEvent } from '../upstream/flux.ts';
import {
  signWebhook,
  WEBHOOK_EVENT_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from '../upstream/webhook.ts';
import { FAILURE_MESSAGE, jobResult, QUEUED_SHARE, type SandboxJob } from './jobs.ts';
import type { ApiState } from './routes.ts';
import type { SandboxLogger } from './server.ts';

/**
 * Webhook delivery (contract §6): events are planned at submit from the job's timeline and
 * POSTed when it passes them. Fire-and-forget, no retries (apiframe documents none); a job's
 * events go out one after another, in timeline order.
 */

/** One delivery attempt; `status` is the HTTP status, or null for a network error or a drop. */
export type WebhookDelivery = {
  jobId: string;
  event: WebhookEvent;
  url: string;
  status: number | null;
  /** Not sent, by the `dropWebhookRate` fault. */
  dropped: boolean;
  /** The second copy sent by the `duplicateWebhookRate` fault. */
  duplicate: boolean;
};

export const WEBHOOK_TIMEOUT_MS = 5000;
/** Each `progress` event goes out when polling first shows that progress. */
const PROGRESS_STEPS = [25, 50, 75];

type PlannedEvent = {
  event: WebhookEvent;
  /** Offset from the job's creation. */
  atMs: number;
  payload: Record<string, unknown>;
  /** The terminal event: once it has been attempted (or passed, if not requested) the job's
   * `webhookStatus` is settled. */
  final: boolean;
};

/** Every event the job's timeline passes, requested or not. */
export function plannedEvents(job: SandboxJob, baseUrl: string): PlannedEvent[] {
  const latency = job.latencyMs;
  const events: PlannedEvent[] = [];
  for (const progress of PROGRESS_STEPS) {
    const atMs = Math.ceil(latency * (QUEUED_SHARE + (1 - QUEUED_SHARE) * (progress / 100)));
    // A latency of a few ms leaves no time in PROCESSING for that step.
    if (atMs < latency) {
      events.push({
        event: 'progress',
        atMs,
        payload: {
          event: 'progress',
          jobId: job.id,
          status: 'PROCESSING',
          progress,
          model: job.model,
        },
        final: false,
      });
    }
  }
  const completedAt = new Date(job.createdAtMs + latency).toISOString();
  if (job.outcome === 'complete') {
    events.push({
      event: 'completed',
      atMs: latency,
      payload: {
        event: 'completed',
        jobId: job.id,
        status: 'COMPLETED',
        progress: 100,
        result: jobResult(job, baseUrl),
        model: job.model,
        creditCost: job.creditCost,
        completedAt,
      },
      final: true,
    });
  } else if (job.outcome === 'fail') {
    events.push({
      event: 'failed',
      atMs: latency,
      payload: {
        event: 'failed',
        jobId: job.id,
        status: 'FAILED',
        error: FAILURE_MESSAGE,
        model: job.model,
      },
      final: true,
    });
  }
  return events;
}

export function createWebhookSender(deps: {
  apiKey: string;
  state: ApiState;
  logger?: SandboxLogger;
  random?: () => number;
}) {
  const { apiKey, state, logger } = deps;
  const random = deps.random ?? Math.random;
  const deliveries: WebhookDelivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<AbortController>();
  let idleWaiters: (() => void)[] = [];
  // Planned steps not yet settled; `generation` invalidates everything started before a clear.
  let pending = 0;
  let generation = 0;

  function wakeIfIdle(): void {
    if (pending === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
  }

  function settleOne(started: number): void {
    if (started === generation) {
      pending -= 1;
      wakeIfIdle();
    }
  }

  /** Runs `fn` once the wall clock reaches `targetMs` (re-armed if a timer fires early). */
  function at(targetMs: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (Date.now() < targetMs) {
          at(targetMs, fn);
        } else {
          fn();
        }
      },
      Math.max(0, targetMs - Date.now()),
    );
    timer.unref();
    timers.add(timer);
  }

  async function post(url: string, event: WebhookEvent, body: string): Promise<number | null> {
    const controller = new AbortController();
    inFlight.add(controller);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(body, apiKey),
          [WEBHOOK_EVENT_HEADER]: event,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.status;
    } catch (error) {
      logger?.debug({ err: error, url, event }, 'sandbox webhook not delivered');
      return null;
    } finally {
      inFlight.delete(controller);
    }
  }

  /** One event, plus its duplicate under the fault; true when the receiver answered 2xx. */
  async function deliver(
    job: SandboxJob,
    event: WebhookEvent,
    body: string,
    started: number,
  ): Promise<boolean> {
    const url = job.webhookUrl ?? '';
    const record = (status: number | null, dropped: boolean, duplicate: boolean) => {
      if (started === generation) {
        deliveries.push({ jobId: job.id, event, url, status, dropped, duplicate });
      }
    };
    if (random() < state.faults.dropWebhookRate) {
      record(null, true, false);
      return false;
    }
    const status = await post(url, event, body);
    record(status, false, false);
    if (started === generation && random() < state.faults.duplicateWebhookRate) {
      record(await post(url, event, body), false, true);
    }
    return status !== null && status >= 200 && status < 300;
  }

  function schedule(job: SandboxJob): void {
    if (job.webhookUrl === undefined) {
      return;
    }
    const wanted = new Set<WebhookEvent>(job.webhookEvents ?? WEBHOOK_EVENTS);
    const steps = plannedEvents(job, state.baseUrl).filter(
      (step) => step.final || wanted.has(step.event),
    );
    const started = generation;
    let chain: Promise<void> = Promise.resolve();
    let anyFailed = false;
    for (const step of steps) {
      pending += 1;
      const send = wanted.has(step.event);
      const body = JSON.stringify(step.payload);
      const run = async () => {
        // Steps still queued behind an aborted delivery when the sandbox was reset or closed.
        if (started !== generation) {
          return;
        }
        if (send) {
          const ok = await deliver(job, step.event, body, started);
          anyFailed ||= !ok;
        }
        if (step.final && started === generation) {
          job.webhookStatus = anyFailed ? 'failed' : 'delivered';
        }
      };
      at(job.createdAtMs + step.atMs, () => {
        const enqueue = () => {
          chain = chain
            .then(run)
            .catch((error: unknown) => logger?.warn({ err: error }, 'sandbox webhook step failed'))
            .finally(() => settleOne(started));
        };
        const delay = state.faults.webhookDelayMs;
        if (delay > 0) {
          at(Date.now() + delay, enqueue);
        } else {
          enqueue();
        }
      });
    }
  }

  /** Cancels planned events and in-flight deliveries; `forget` also empties the record. */
  function clear(forget: boolean): void {
    generation += 1;
    for (const timer of timers) {
      clearTimeout(timer);
    }
    timers.clear();
    for (const controller of inFlight) {
      controller.abort();
    }
    inFlight.clear();
    if (forget) {
      deliveries.length = 0;
    }
    pending = 0;
    wakeIfIdle();
  }

  /** Resolves once no planned event is waiting or being delivered. */
  function idle(): Promise<void> {
    return pending === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
  }

  return { deliveries, schedule, clear, idle };
}
export type WebhookSender = ReturnType<typeof createWebhookSender>;
