import { createGraphQLError, Repeater } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { db } from '../db.ts';
import type { Generation } from '../generated/prisma/client.ts';
import { isFinalStatus } from '../jobs/generation-status.ts';
import { isUuid } from './loaders.ts';

/**
 * Yields the generation now, then again after every change, and ends once it is final. Events
 * carry only an id; each yield re-reads the row scoped to the caller.
 */
export function watchGeneration(ctx: Context, id: string | null): AsyncIterable<Generation> {
  const read = () =>
    id && isUuid(id)
      ? db.generation.findFirst({ where: { id, ownerId: ctx.viewer.accountId } })
      : null;
  return new Repeater<Generation>(async (push, stop) => {
    const updates = ctx.services.events.subscribe('generation:updated', id ?? '');
    stop.then(() => updates.return?.());
    let last = await read();
    if (!last) {
      stop(createGraphQLError('Generation not found', { extensions: { code: 'NOT_FOUND' } }));
      return;
    }
    await push(last);
    if (isFinalStatus(last.status)) {
      stop();
      return;
    }
    for await (const _event of updates) {
      const current = await read();
      if (!current) {
        break;
      }
      if (current.status !== last.status || current.progress !== last.progress) {
        // The subscription keeps one context (and its DataLoader caches) for all its events.
        ctx.loaders.imagesByGeneration.clear(current.id);
        ctx.loaders.generation.clear(current.id);
        await push(current);
      }
      last = current;
      if (isFinalStatus(current.status)) {
        break;
      }
    }
    stop();
  });
}
