import { db } from '../db.ts';
import type { GenerationStatus, Prisma } from '../generated/prisma/client.ts';
import type { JobServices } from './context.ts';
import { ACTIVE_STATUSES, publishGenerationUpdate } from './generation-status.ts';

/**
 * Applies a change only while the generation is still active, so a final state never changes
 * again (a late result after a cancel or an expiry is dropped). Returns whether it applied.
 */
export async function updateIfActive(
  services: JobServices,
  id: string,
  data: Prisma.GenerationUpdateManyMutationInput,
  from: GenerationStatus[] = ACTIVE_STATUSES,
): Promise<boolean> {
  const { count } = await db.generation.updateMany({
    where: { id, status: { in: from } },
    data,
  });
  if (count > 0) {
    publishGenerationUpdate(services.events, id);
  }
  return count > 0;
}

export function fail(
  services: JobServices,
  id: string,
  code: string,
  message: string,
  extra: Prisma.GenerationUpdateManyMutationInput = {},
) {
  return updateIfActive(services, id, {
    status: 'FAILED',
    errorCode: code,
    errorMessage: message,
    ...extra,
  });
}

export function expire(services: JobServices, id: string) {
  return updateIfActive(services, id, {
    status: 'EXPIRED',
    errorCode: 'EXPIRED',
    errorMessage: `No final answer from upstream within ${services.config.GENERATION_TIMEOUT_S} s`,
  });
}
