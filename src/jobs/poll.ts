import { db } from '../db.ts';
import { isUpstreamRequestError } from '../upstream/errors.ts';
import { resultUrls, type UpstreamJob } from '../upstream/job.ts';
import { backoffMs, type JobServices, pollDelayMs, type TaskContext } from './context.ts';
import { FOLLOWED_STATUSES, publishGenerationUpdate } from './generation-status.ts';
import { expire, fail, updateIfActive } from './transitions.ts';

/** Reads the upstream job once and moves the generation on; schedules itself until final. */
export async function pollGeneration(id: string, task: TaskContext): Promise<void> {
  const { services, logger } = task;
  const generation = await db.generation.findUnique({ where: { id } });
  if (!generation || !FOLLOWED_STATUSES.includes(generation.status)) {
    return;
  }
  if (!generation.upstreamJobId) {
    await task.schedule('submit', new Date());
    return;
  }
  if (generation.deadlineAt < new Date()) {
    await expire(services, id);
    return;
  }
  const pollCount = generation.pollCount + 1;
  await db.generation.update({ where: { id }, data: { pollCount } });
  let job: UpstreamJob;
  try {
    job = await services.upstream.getJob(generation.upstreamJobId);
  } catch (error) {
    if (!isUpstreamRequestError(error)) {
      throw error;
    }
    if (error.retryable) {
      logger.warn({ code: error.code, pollCount }, 'status poll failed, will retry');
      // Bounded: a status read is cheap and the job may finish any moment.
      const delay =
        error.retryAfterMs ?? backoffMs(Math.min(pollCount, 4), services.config.RETRY_BASE_MS);
      await task.schedule('poll', new Date(Date.now() + delay));
      return;
    }
    await fail(services, id, error.code, error.message);
    return;
  }
  logger.debug({ upstreamStatus: job.status, progress: job.progress, pollCount }, 'polled');
  const next = await applyUpstreamState(services, id, job, 'poll');
  if (next === 'download') {
    await task.schedule('download', new Date());
  } else if (next === 'poll') {
    await task.schedule('poll', new Date(Date.now() + pollDelayMs(services, pollCount)));
  }
}

/** The part of a job's state that polls and webhooks both report. */
export type UpstreamState = Pick<UpstreamJob, 'status' | 'progress' | 'result' | 'error'> & {
  creditCost?: number | null;
  completedAt?: string | null;
};

/**
 * Applies what upstream reports, whichever way it arrived (poll or webhook), and says which
 * step comes next. Safe to repeat and to receive out of order: final states never change,
 * progress only rises, and the images of a completed job are claimed for download once.
 */
export async function applyUpstreamState(
  services: JobServices,
  id: string,
  state: UpstreamState,
  source: 'poll' | 'webhook',
): Promise<'poll' | 'download' | 'none'> {
  switch (state.status) {
    case 'QUEUED':
    case 'PROCESSING': {
      // Two conditional updates, so a late or repeated report can only move things forward.
      const changes = [];
      if (state.status === 'PROCESSING') {
        changes.push(
          db.generation.updateMany({
            where: { id, status: 'QUEUED' },
            data: { status: 'PROCESSING', processingAt: new Date() },
          }),
        );
      }
      const progress = state.progress;
      if (progress !== null && progress !== undefined) {
        changes.push(
          db.generation.updateMany({
            where: {
              id,
              status: { in: FOLLOWED_STATUSES },
              resultUrls: { isEmpty: true },
              OR: [{ progress: null }, { progress: { lt: progress } }],
            },
            data: { progress },
          }),
        );
      }
      const counts = await Promise.all(changes);
      if (counts.some(({ count }) => count > 0)) {
        publishGenerationUpdate(services.events, id);
      }
      return 'poll';
    }
    case 'COMPLETED': {
      const urls = resultUrls(state.result);
      if (urls.length === 0) {
        await fail(services, id, 'EMPTY_RESULT', 'Upstream reported COMPLETED without any image');
        return 'none';
      }
      // The first report of completion claims the download; later ones find it claimed.
      const { count } = await db.generation.updateMany({
        where: { id, status: { in: FOLLOWED_STATUSES }, resultUrls: { isEmpty: true } },
        data: {
          status: 'PROCESSING',
          progress: 100,
          resultUrls: urls,
          creditCost: state.creditCost ?? null,
          upstreamCompletedAt: state.completedAt ? new Date(state.completedAt) : new Date(),
        },
      });
      if (count > 0) {
        publishGenerationUpdate(services.events, id);
        return 'download';
      }
      // Already claimed. A poll owns the lifecycle, so it drives the download again in case
      // that step was lost; a duplicate webhook does nothing.
      if (source === 'webhook') {
        return 'none';
      }
      const current = await db.generation.findUnique({ where: { id }, select: { status: true } });
      return current && FOLLOWED_STATUSES.includes(current.status) ? 'download' : 'none';
    }
    case 'FAILED':
      await fail(services, id, 'GENERATION_FAILED', state.error ?? 'Upstream reported a failure', {
        creditCost: state.creditCost ?? null,
      });
      return 'none';
    case 'CANCELLED':
      await updateIfActive(services, id, {
        status: 'CANCELLED',
        errorCode: 'CANCELLED',
        errorMessage: 'Cancelled upstream',
      });
      return 'none';
  }
}
