import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import type { ApiframeClient } from '../upstream/client.ts';
import type { GenerationJobPayload, TaskName } from './queue.ts';

/** What lifecycle tasks need: the shared services plus the upstream client. */
export interface JobServices extends Services {
  upstream: ApiframeClient;
  /** Where upstream should send job events, or null when webhooks are off. */
  webhookUrl: string | null;
  /** Checks an upstream webhook's signature (the key stays inside the closure). */
  verifyWebhook(rawBody: Buffer, signature: string | null): boolean;
}

export interface TaskContext {
  services: JobServices;
  logger: Logger;
  /** Schedules the next lifecycle step of this generation (replacing any queued one). */
  schedule(task: TaskName, runAt: Date, payload?: GenerationJobPayload): Promise<void>;
}

/** Exponential backoff with jitter, capped (the SDK's retry policy, in milliseconds). */
export function backoffMs(attempt: number, baseMs: number, capMs = 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** 2 s, ×1.5 per poll, capped: the contract's pace; a slow fallback pace with webhooks on. */
export function pollDelayMs(services: JobServices, pollCount: number): number {
  const { POLL_INITIAL_MS, POLL_MAX_MS, POLL_WITH_WEBHOOKS_MS } = services.config;
  const delay = Math.min(POLL_MAX_MS, Math.round(POLL_INITIAL_MS * 1.5 ** pollCount));
  return services.webhookUrl ? Math.max(delay, POLL_WITH_WEBHOOKS_MS) : delay;
}
