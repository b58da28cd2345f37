import type { WorkerPool } from 'graphile-worker';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { ACTIVE_STATUSES } from './generation-status.ts';
import { lifecycleJobKey } from './queue.ts';

// A process killed with SIGKILL leaves its running jobs locked; graphile-worker would free them
// only after 4 hours. Each process registers its worker pool with the database session that
// lives exactly as long as the process; any process can then see that a pool's session is gone
// and unlock that pool's jobs at once.

const RECLAIM_DEAD_POOLS = `
  WITH dead AS (
    DELETE FROM "WorkerPool" p
    WHERE NOT EXISTS (
      SELECT 1 FROM pg_stat_activity a
      WHERE a.pid = p."backendPid" AND a.backend_start = p."backendStart")
    RETURNING id)
  SELECT graphile_worker.force_unlock_workers(array(SELECT id FROM dead)) AS unlocked,
         (SELECT count(*) FROM dead)::int AS pools`;

// Safety net: an active generation must always have its lifecycle job. One whose job is gone
// (e.g. it used up its attempts during a long outage) gets the right step again.
const REQUEUE_ORPHANS = `
  WITH orphans AS (
    SELECT g.id, g.status FROM "Generation" g
    WHERE g.status::text = ANY($1::text[])
      AND g."updatedAt" < now() - make_interval(secs => $2::double precision)
      AND NOT EXISTS (
        SELECT 1 FROM graphile_worker._private_jobs j
        WHERE j.key = $3::text || g.id::text AND j.attempts < j.max_attempts))
  SELECT graphile_worker.add_job(
           CASE WHEN o.status = 'PENDING' THEN 'submit' ELSE 'poll' END,
           json_build_object('id', o.id::text),
           job_key := $3::text || o.id::text,
           max_attempts := 10) AS job
  FROM orphans o`;

export interface Recovery {
  /** Registers this process's pool; call from graphile-worker's `pool:create` event. */
  register(workerPool: WorkerPool): Promise<void>;
  /** Frees the jobs of dead pools and requeues orphaned generations; returns what it did. */
  sweep(): Promise<{ deadPools: number; requeued: number }>;
  stop(): Promise<void>;
}

export async function startRecovery(
  connectionString: string,
  logger: Logger,
  intervalMs: number,
  orphanAgeS = 60,
): Promise<Recovery> {
  // This session is the process's heartbeat: it ends when the process does.
  const session = new pg.Client({ connectionString });
  session.on('error', (error) => logger.warn({ err: error }, 'recovery session lost'));
  await session.connect();
  let pool: WorkerPool | null = null;
  let timer: NodeJS.Timeout | undefined;

  async function sweep() {
    const reclaimed = await session.query<{ pools: number }>(RECLAIM_DEAD_POOLS);
    const deadPools = reclaimed.rows[0]?.pools ?? 0;
    const requeued = await session.query(REQUEUE_ORPHANS, [
      ACTIVE_STATUSES,
      orphanAgeS,
      lifecycleJobKey(''),
    ]);
    if (deadPools > 0 || (requeued.rowCount ?? 0) > 0) {
      logger.warn(
        { deadPools, requeued: requeued.rowCount },
        'recovered work of stopped processes',
      );
      pool?.nudge(deadPools + (requeued.rowCount ?? 0));
    }
    return { deadPools, requeued: requeued.rowCount ?? 0 };
  }

  return {
    async register(workerPool) {
      pool = workerPool;
      await session.query(
        `INSERT INTO "WorkerPool" (id, "backendPid", "backendStart")
         SELECT $1, pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
        [workerPool.id],
      );
      await sweep();
      timer = setInterval(() => {
        sweep().catch((error: unknown) => logger.warn({ err: error }, 'recovery sweep failed'));
      }, intervalMs);
      timer.unref();
    },
    sweep,
    async stop() {
      clearInterval(timer);
      if (pool) {
        await session.query(`DELETE FROM "WorkerPool" WHERE id = $1`, [pool.id]).catch(() => {});
      }
      await session.end();
    },
  };
}
