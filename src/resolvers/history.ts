import type { Context } from '../context.ts';
import { db } from '../db.ts';
import type { Generation, GenerationStatus, Prisma } from '../generated/prisma/client.ts';

export interface GenerationFilterArgs {
  status?: GenerationStatus[] | null;
  model?: string[] | null;
  search?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  seed?: number | null;
}

export interface HistoryArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: GenerationFilterArgs | null;
  orderBy?: 'CREATED_AT_DESC' | 'CREATED_AT_ASC' | null;
}

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

/** A position in the history: (createdAt, id), the order of the keyset. */
interface Cursor {
  createdAt: Date;
  id: string;
}

export const encodeCursor = (row: Cursor) =>
  Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');

function decodeCursor(cursor: string, argName: string): Cursor {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new PaginationArgumentError(`${argName} is not a cursor returned by this API`);
  }
  return { createdAt, id };
}

export class PaginationArgumentError extends Error {
  override name = 'PaginationArgumentError';
}

/**
 * Rows strictly after the cursor in the direction `dir` of the (createdAt, id) order. The
 * redundant bound on createdAt alone is what lets PostgreSQL start the index scan at the
 * cursor instead of filtering every newer row: without it, cost grows with page depth.
 */
function beyond(cursor: Cursor, dir: 'gt' | 'lt'): Prisma.GenerationWhereInput {
  return {
    createdAt: { [dir === 'gt' ? 'gte' : 'lte']: cursor.createdAt },
    OR: [
      { createdAt: { [dir]: cursor.createdAt } },
      { createdAt: cursor.createdAt, id: { [dir]: cursor.id } },
    ],
  };
}

function filterWhere(ownerId: string, filter: GenerationFilterArgs | null | undefined) {
  const where: Prisma.GenerationWhereInput = { ownerId };
  if (filter?.status?.length) {
    where.status = { in: filter.status };
  }
  if (filter?.model?.length) {
    where.model = { in: filter.model };
  }
  if (filter?.createdAfter || filter?.createdBefore) {
    where.createdAt = {
      ...(filter.createdAfter ? { gt: filter.createdAfter } : {}),
      ...(filter.createdBefore ? { lt: filter.createdBefore } : {}),
    };
  }
  if (filter?.seed !== null && filter?.seed !== undefined) {
    where.seed = filter.seed;
  }
  return where;
}

/** Ids matching a full-text query (websearch syntax) on the GIN-indexed generated column. */
async function searchIds(ownerId: string, search: string): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM "Generation"
    WHERE "ownerId" = ${ownerId}::uuid
      AND "promptSearch" @@ websearch_to_tsquery('english', ${search})`;
  return rows.map((row) => row.id);
}

/**
 * One page of the caller's history. Keyset pagination on (createdAt, id): each page is one
 * indexed range scan however deep it is. `last`/`before` read backwards and flip the page.
 */
export async function listGenerations(ctx: Context, args: HistoryArgs) {
  if ((args.first ?? 0) < 0 || (args.last ?? 0) < 0) {
    throw new PaginationArgumentError('first and last must not be negative');
  }
  if (args.first != null && args.last != null) {
    throw new PaginationArgumentError('pass first or last, not both');
  }
  const ownerId = ctx.viewer.accountId;
  const where = filterWhere(ownerId, args.filter);
  const search = args.filter?.search?.trim();
  if (search) {
    where.id = { in: await searchIds(ownerId, search) };
  }
  const newestFirst = (args.orderBy ?? 'CREATED_AT_DESC') === 'CREATED_AT_DESC';
  const backwards = args.last != null || (args.before != null && args.first == null);
  const size = Math.min(args.last ?? args.first ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const after = args.after != null ? decodeCursor(args.after, 'after') : null;
  const before = args.before != null ? decodeCursor(args.before, 'before') : null;
  // "after" lies further along the order: older rows when newest first.
  const forward = newestFirst ? 'lt' : 'gt';
  const backward = newestFirst ? 'gt' : 'lt';
  const bounds = [after && beyond(after, forward), before && beyond(before, backward)].filter(
    (b): b is Prisma.GenerationWhereInput => Boolean(b),
  );
  const readDesc = newestFirst !== backwards;
  const order = readDesc ? 'desc' : 'asc';
  const rows = await db.generation.findMany({
    where: { AND: [where, ...bounds] },
    orderBy: [{ createdAt: order }, { id: order }],
    take: size + 1,
  });
  const hasMore = rows.length > size;
  const page = rows.slice(0, size);
  if (backwards) {
    page.reverse();
  }
  return {
    edges: page.map((node) => ({ cursor: encodeCursor(node), node })),
    pageInfo: {
      hasNextPage: backwards ? before !== null : hasMore,
      hasPreviousPage: backwards ? hasMore : after !== null,
      startCursor: page[0] ? encodeCursor(page[0]) : null,
      endCursor: page.at(-1) ? encodeCursor(page.at(-1) as Generation) : null,
    },
    // Counted only when the client asks for it (a lazy field).
    totalCount: () => db.generation.count({ where }),
  };
}

export const findGeneration = (ctx: Context, id: string | null) =>
  id ? ctx.loaders.generation.load(id) : Promise.resolve(null);
