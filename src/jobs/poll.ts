import { db } from '../db.ts';
import { isUpstreamRequestError } from '../upstream/errors.ts';
import { resultUrls } from '../upstream/job.ts';
import { backoffMs, pollDelayMs, type TaskContext } from './context.ts';
import { expire, fail, updateIfActive } from './transitions.ts';

export interface DownloadPayload {
  id: string;
  urls: string[];
  creditCost: number | null;
}

/** Reads the upstream job once and moves the generation on; schedules itself until final. */
export async function pollGeneration(id: string, task: TaskContext): Promise<void> {
  const { services, logger } = task;
  const generation = await db.generation.findUnique({ where: { id } });
  if (!generation || !['QUEUED', 'PROCESSING'].includes(generation.status)) {
    return;
  }
  if (!generation.upstreamJobId) {
    await task.schedule('submit', new Date());
    return;
  }
  if (generation.deadlineAt < new Date()) {
    await expire(services, id);
    logger.warn('expired: no final upstream answer before the deadline');
    return;
  }
  const { POLL_INITIAL_MS, POLL_MAX_MS } = services.config;
  const pollCount = generation.pollCount + 1;
  const pollAgain = (delayMs = pollDelayMs(pollCount, POLL_INITIAL_MS, POLL_MAX_MS)) =>
    task.schedule('poll', new Date(Date.now() + delayMs));

  let job: Awaited<ReturnType<typeof services.upstream.getJob>>;
  try {
    job = await services.upstream.getJob(generation.upstreamJobId);
  } catch (error) {
    if (!isUpstreamRequestError(error)) {
      throw error;
    }
    if (error.retryable) {
      logger.warn({ code: error.code, pollCount }, 'status poll failed, will retry');
      await db.generation.update({ where: { id }, data: { pollCount } });
      await pollAgain(error.retryAfterMs ?? backoffMs(pollCount, POLL_INITIAL_MS));
      return;
    }
    await fail(services, id, error.code, error.message);
    return;
  }
  logger.debug({ upstreamStatus: job.status, progress: job.progress, pollCount }, 'polled');

  switch (job.status) {
    case 'QUEUED':
    case 'PROCESSING': {
      const processing = job.status === 'PROCESSING';
      await updateIfActive(services, id, {
        pollCount,
        status: processing ? 'PROCESSING' : generation.status,
        progress: job.progress ?? generation.progress,
        ...(processing && !generation.processingAt ? { processingAt: new Date() } : {}),
      });
      await pollAgain();
      return;
    }
    case 'COMPLETED': {
      const urls = resultUrls(job.result);
      if (urls.length === 0) {
        await fail(
          services,
          id,
          'EMPTY_RESULT',
          'Upstream reported COMPLETED without any image URL',
        );
        return;
      }
      await updateIfActive(services, id, {
        pollCount,
        status: 'PROCESSING',
        progress: 100,
        creditCost: job.creditCost ?? null,
        processingAt: generation.processingAt ?? new Date(),
      });
      const payload: DownloadPayload = { id, urls, creditCost: job.creditCost ?? null };
      await task.schedule('download', new Date(), payload);
      return;
    }
    case 'FAILED':
      await fail(
        services,
        id,
        'GENERATION_FAILED',
        job.error ?? 'Upstream reported the job failed',
        {
          pollCount,
          creditCost: job.creditCost ?? null,
        },
      );
      return;
    case 'CANCELLED':
      await updateIfActive(services, id, {
        pollCount,
        status: 'CANCELLED',
        errorCode: 'CANCELLED',
        errorMessage: 'Cancelled upstream',
      });
      return;
  }
}
