import type { Tx } from '../db.ts';

// Lifecycle steps of one generation share one job key, so at most one step of a generation is
// ever queued: scheduling the next step replaces the pending one (graphile-worker's job_key).
export const lifecycleJobKey = (generationId: string) => `generation:${generationId}`;

export type TaskName = 'submit' | 'poll' | 'download';

export interface GenerationJobPayload {
  id: string;
}

type Sql = Pick<Tx, '$executeRaw'>;

/** Adds a lifecycle job in the caller's transaction (plain SQL: graphile_worker.add_job). */
export async function enqueueInTransaction(
  tx: Sql,
  task: TaskName,
  payload: GenerationJobPayload,
  runAt: Date = new Date(),
): Promise<void> {
  await tx.$executeRaw`SELECT graphile_worker.add_job(${task}::text, ${JSON.stringify(payload)}::json, run_at := ${runAt}::timestamptz, job_key := ${lifecycleJobKey(payload.id)}::text, max_attempts := 10)`;
}

/** Drops the queued (not running) lifecycle job of a generation, e.g. after a cancel. */
export async function removeLifecycleJob(tx: Sql, generationId: string): Promise<void> {
  await tx.$executeRaw`SELECT graphile_worker.remove_job(${lifecycleJobKey(generationId)}::text)`;
}
