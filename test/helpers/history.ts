import { expect } from 'vitest';
import type { GenerationStatus } from '../../src/generated/prisma/client.ts';
import { createGenerations } from '../factories/generation.ts';
import type { HistoryPageQuery, HistoryPageQueryVariables } from '../gql/graphql.ts';
import { graphql } from '../gql/index.ts';
import type { TestApp } from './app.ts';
import { query } from './graphql.ts';

// Reading an account's generation history page by page, and rows to read.

export const HistoryPage = graphql(`
  query HistoryPage(
    $first: Int
    $after: String
    $last: Int
    $before: String
    $filter: GenerationFilter
    $orderBy: GenerationOrder
  ) {
    generations(
      first: $first
      after: $after
      last: $last
      before: $before
      filter: $filter
      orderBy: $orderBy
    ) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id prompt createdAt } }
    }
  }
`);

export type Page = HistoryPageQuery['generations'];
export type Query = Omit<HistoryPageQueryVariables, 'first' | 'after' | 'last' | 'before'>;

export interface Row {
  id: string;
  prompt: string;
  createdAt: Date;
  status: GenerationStatus;
  model: string;
  seed: number;
}

export const BASE = Date.UTC(2026, 0, 1, 12);
export const minutes = (n: number) => new Date(BASE + n * 60_000);

/** Inserts rows with unique prompts (the prompt identifies a row in responses). */
export async function insertRows(
  ownerId: string,
  count: number,
  make: (i: number) => Partial<Omit<Row, 'id'>> & { createdAt: Date },
): Promise<Row[]> {
  const specs = Array.from({ length: count }, (_, i) => ({
    prompt: `row ${i}`,
    status: 'COMPLETED' as GenerationStatus,
    model: 'flux-1.1-pro',
    seed: 1000 + i,
    ...make(i),
  }));
  const created = await createGenerations(ownerId, count, (i) => ({
    ...specs[i],
    params: { seed: specs[i]?.seed },
  }));
  return created.map((row, i) => {
    const spec = specs[i];
    if (!spec || typeof row.id !== 'string') {
      throw new Error('factory returned an unexpected row');
    }
    return { ...spec, id: row.id };
  });
}

const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The documented order: createdAt desc, then id desc (uuid order equals lowercase-hex order). */
export const newestFirst = (rows: Row[]) =>
  [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareIds(b.id, a.id));
export const prompts = (rows: Row[]) => rows.map((row) => row.prompt);
export const pagePrompts = (pages: Page[]) =>
  pages.flatMap((p) => p.edges.map((e) => e.node.prompt));

/** Page reads through the file's app, read through `current` (it starts in beforeAll). */
export function historyReader(current: () => TestApp) {
  async function readPage(key: string, variables: HistoryPageQueryVariables): Promise<Page> {
    const page = (await query(current(), HistoryPage, variables, { key })).generations;
    // Cursors of the page are those of its first and last edge.
    expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    return page;
  }

  /** Follows endCursor with first: size until hasNextPage is false; pages in visiting order. */
  async function walkForward(key: string, size: number, variables: Query = {}) {
    const pages: Page[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await readPage(key, { ...variables, first: size, after });
      pages.push(page);
      expect(page.edges.length).toBeLessThanOrEqual(size);
      if (!page.pageInfo.hasNextPage) {
        return pages;
      }
      if (pages.length > 50) {
        throw new Error('pagination does not end');
      }
      after = page.pageInfo.endCursor ?? null;
    }
  }

  /** Follows startCursor with last: size from the end until hasPreviousPage is false. */
  async function walkBackward(key: string, size: number, variables: Query = {}) {
    const pages: Page[] = [];
    let before: string | null = null;
    for (;;) {
      const page = await readPage(key, { ...variables, last: size, before });
      pages.push(page);
      expect(page.edges.length).toBeLessThanOrEqual(size);
      if (!page.pageInfo.hasPreviousPage) {
        return pages;
      }
      if (pages.length > 50) {
        throw new Error('pagination does not end');
      }
      before = page.pageInfo.startCursor ?? null;
    }
  }

  return { readPage, walkForward, walkBackward };
}
