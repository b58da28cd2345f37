import { db } from '../db.ts';
import type { WebhookPayload } from '../upstream/webhook.ts';
import type { JobServices } from './context.ts';
import { applyUpstreamState, type UpstreamState } from './poll.ts';
import { enqueue } from './queue.ts';

/**
 * Applies a verified upstream webhook event. Events carry no delivery id and may repeat or
 * arrive out of order; applyUpstreamState makes them harmless (see there). Unknown jobs are
 * ignored. Returns the generation id it applied to, if any.
 */
export async function applyWebhookEvent(
  services: JobServices,
  event: WebhookPayload,
): Promise<string | null> {
  const [generation] = await db.generation.updateManyAndReturn({
    where: { upstreamJobId: event.jobId },
    data: { webhookEvents: { increment: 1 } },
    select: { id: true },
  });
  if (!generation) {
    return null;
  }
  const { id } = generation;
  const next = await applyUpstreamState(
    services,
    id,
    {
      status: event.status,
      progress: event.progress ?? null,
      result: (event.result ?? null) as UpstreamState['result'],
      error: event.error ?? null,
      creditCost: event.creditCost ?? null,
      completedAt: event.completedAt ?? null,
    },
    'webhook',
  );
  if (next === 'download') {
    // Replaces the slow fallback poll queued for this generation.
    await enqueue(db, 'download', { id });
  }
  return id;
}
