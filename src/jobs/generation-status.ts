import type { GenerationEvents } from '../events/generation-events.ts';
import type { GenerationStatus } from '../generated/prisma/client.ts';

export const FINAL_STATUSES: readonly GenerationStatus[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'EXPIRED',
];
export const ACTIVE_STATUSES: GenerationStatus[] = ['PENDING', 'QUEUED', 'PROCESSING'];
/** Accepted upstream and not final: the states in which a job is followed. */
export const FOLLOWED_STATUSES: GenerationStatus[] = ['QUEUED', 'PROCESSING'];

export const isFinalStatus = (status: GenerationStatus) => FINAL_STATUSES.includes(status);

export function publishGenerationUpdate(events: GenerationEvents, id: string): void {
  events.publish('generation:updated', id, { id });
}
