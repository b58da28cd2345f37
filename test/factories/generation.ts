import { randomUUID } from 'node:crypto';
import { db } from '../../src/db.ts';
import type { GenerationStatus, Prisma } from '../../src/generated/prisma/client.ts';

export function buildGeneration(
  ownerId: string,
  overrides: Partial<Prisma.GenerationUncheckedCreateInput> = {},
): Prisma.GenerationUncheckedCreateInput {
  const seed = overrides.seed ?? Math.floor(Math.random() * 1_000_000);
  return {
    id: randomUUID(),
    ownerId,
    model: 'flux-1.1-pro',
    prompt: `a test image ${seed}`,
    params: { seed },
    seed,
    status: 'COMPLETED' satisfies GenerationStatus,
    fingerprint: randomUUID(),
    deadlineAt: new Date(Date.now() + 600_000),
    ...overrides,
  };
}

/** Rows written directly (no upstream): for history, filters and isolation. */
export async function createGenerations(
  ownerId: string,
  count: number,
  overrides: (i: number) => Partial<Prisma.GenerationUncheckedCreateInput> = () => ({}),
) {
  const rows = Array.from({ length: count }, (_, i) => buildGeneration(ownerId, overrides(i)));
  await db.generation.createMany({ data: rows });
  return rows;
}
