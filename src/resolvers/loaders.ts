import DataLoader from 'dataloader';
import { db } from '../db.ts';
import type { Generation, Image } from '../generated/prisma/client.ts';

// Per-request loaders (built in createContext, never shared): one query per kind of lookup
// however many parents ask, and every lookup scoped to the caller.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

function byKey<T, K>(keys: readonly K[], rows: T[], keyOf: (row: T) => K): (T | null)[] {
  const map = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => map.get(key) ?? null);
}

export function createLoaders(ownerId: string) {
  return {
    generation: new DataLoader<string, Generation | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length
        ? await db.generation.findMany({ where: { id: { in: valid }, ownerId } })
        : [];
      return byKey(ids, rows, (row) => row.id);
    }),
    image: new DataLoader<string, Image | null>(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length
        ? await db.image.findMany({ where: { id: { in: valid }, generation: { ownerId } } })
        : [];
      return byKey(ids, rows, (row) => row.id);
    }),
    /** Images of generations already known to be the caller's. */
    imagesByGeneration: new DataLoader<string, Image[]>(async (generationIds) => {
      const rows = await db.image.findMany({
        where: { generationId: { in: [...generationIds] } },
        orderBy: [{ generationId: 'asc' }, { index: 'asc' }],
      });
      const groups = new Map<string, Image[]>();
      for (const row of rows) {
        groups.set(row.generationId, [...(groups.get(row.generationId) ?? []), row]);
      }
      return generationIds.map((id) => groups.get(id) ?? []);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
