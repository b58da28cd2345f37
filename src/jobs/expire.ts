import { db } from '../db.ts';
import type { TaskContext } from './context.ts';
import { lifecycleJobKey } from './queue.ts';
import { expire } from './transitions.ts';

/** Fires at the generation's deadline: one that is still not final becomes EXPIRED. */
export async function expireGeneration(id: string, task: TaskContext): Promise<void> {
  const expired = await expire(task.services, id);
  if (expired) {
    await db.$executeRaw`SELECT graphile_worker.remove_job(${lifecycleJobKey(id)}::text)`;
    task.logger.warn('expired: no final upstream answer before the deadline');
  }
}
