import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import type { ApiframeClient } from '../upstream/client.ts';

/** What lifecycle tasks need: the shared services plus the upstream client. */
export interface JobServices extends Services {
  upstream: ApiframeClient;
}

export interface TaskContext {
  services: JobServices;
  logger: Logger;
  /** Schedules the next lifecycle step of this generation (replacing any queued one). */
  schedule(task: 'submit' | 'poll' | 'download', runAt: Date, payload?: object): Promise<void>;
}

/** Exponential backoff with full jitter, capped (the SDK's retry policy, in milliseconds). */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** 2 s, ×1.5 per poll, capped: the polling pace the contract recommends. */
export function pollDelayMs(pollCount: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(initialMs * 1.5 ** pollCount));
}
