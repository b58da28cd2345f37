import { db } from '../db.ts';
import { isUpstreamRequestError } from '../upstream/errors.ts';
import type { GenerateRequest } from '../upstream/flux.ts';
import { backoffMs, pollDelayMs, type TaskContext } from './context.ts';
import { expire, fail, updateIfActive } from './transitions.ts';

/**
 * Sends a PENDING generation upstream with Idempotency-Key = its id, so a resubmission after a
 * crash or a timeout replays the same upstream job instead of paying twice.
 */
export async function submitGeneration(id: string, task: TaskContext): Promise<void> {
  const { services, logger } = task;
  const generation = await db.generation.findUnique({ where: { id } });
  if (generation?.status !== 'PENDING') {
    return;
  }
  if (generation.deadlineAt < new Date()) {
    await expire(services, id);
    return;
  }
  const params = generation.params as GenerateRequest['fluxParams'];
  const body: GenerateRequest = {
    model: generation.model,
    prompt: generation.prompt,
    ...(params && Object.keys(params).length > 0 ? { fluxParams: params } : {}),
    ...(services.webhookUrl
      ? { webhookUrl: services.webhookUrl, webhookEvents: ['progress', 'completed', 'failed'] }
      : {}),
  };
  const attempt = generation.submitAttempts + 1;
  try {
    const accepted = await services.upstream.createJob(body, { idempotencyKey: id });
    const applied = await updateIfActive(
      services,
      id,
      {
        status: 'QUEUED',
        upstreamJobId: accepted.jobId,
        submittedAt: new Date(),
        submitAttempts: attempt,
      },
      ['PENDING'],
    );
    logger.info({ upstreamJobId: accepted.jobId, attempt, applied }, 'submitted upstream');
    await task.schedule('poll', new Date(Date.now() + pollDelayMs(services, 0)));
  } catch (error) {
    if (!isUpstreamRequestError(error)) {
      throw error;
    }
    if (!error.retryable) {
      logger.warn({ code: error.code, status: error.status, attempt }, 'submit refused upstream');
      await fail(services, id, error.code, error.message, { submitAttempts: attempt });
      return;
    }
    // Still PENDING: upstream is unreachable or throttling; try again later with the same key.
    const delay =
      error.retryAfterMs ?? backoffMs(generation.submitAttempts, services.config.RETRY_BASE_MS);
    await db.generation.update({ where: { id }, data: { submitAttempts: attempt } });
    logger.warn({ code: error.code, attempt, retryInMs: delay }, 'submit failed, will retry');
    await task.schedule('submit', new Date(Date.now() + delay));
  }
}
