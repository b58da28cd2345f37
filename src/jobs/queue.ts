import type { Tx } from '../db.ts';

// Lifecycle steps of one generation share one job key, so at most one step of a generation is
// ever queued: scheduling the next step replaces the pending one (graphile-worker's job_key).
// The deadline has a key of its own: it must fire whatever step is queued then.
export const lifecycleJobKey = (generationId: string) => `generation:${generationId}`;
export const expiryJobKey = (generationId: string) => `expire:${generationId}`;

export type TaskName = 'submit' | 'poll' | 'download' | 'expire';

export interface GenerationJobPayload {
  id: string;
  /** Retry count of a download step (carried in the payload: downloads are retried by hand). */
  attempt?: number;
}

type Sql = Pick<Tx, '$executeRaw'>;

/** Adds a job with plain SQL (graphile_worker.add_job), inside the caller's transaction if any. */
export async function enqueue(
  sql: Sql,
  task: TaskName,
  payload: GenerationJobPayload,
  options: { runAt?: Date; jobKey?: string } = {},
): Promise<void> {
  const runAt = options.runAt ?? new Date();
  const jobKey = options.jobKey ?? lifecycleJobKey(payload.id);
  await sql.$executeRaw`SELECT graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json, run_at := ${runAt}::timestamptz, job_key := ${jobKey}::text, max_attempts := 10)`;
}

/** Drops the queued (not running) jobs of a generation, e.g. after a cancel. */
export async function removeGenerationJobs(sql: Sql, generationId: string): Promise<void> {
  await sql.$executeRaw`SELECT graphile_worker.remove_job(${lifecycleJobKey(generationId)}::text)`;
  await sql.$executeRaw`SELECT graphile_worker.remove_job(${expiryJobKey(generationId)}::text)`;
}
