import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationStatus } from '../src/generated/prisma/client.ts';
import { createAccount } from './factories/account.ts';
import { createGenerations } from './factories/generation.ts';
import type { HistoryPageQuery, HistoryPageQueryVariables } from './gql/graphql.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { query, request } from './helpers/graphql.ts';

const HistoryPage = graphql(`
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

type Page = HistoryPageQuery['generations'];
type Query = Omit<HistoryPageQueryVariables, 'first' | 'after' | 'last' | 'before'>;

interface Row {
  id: string;
  prompt: string;
  createdAt: Date;
  status: GenerationStatus;
  model: string;
  seed: number;
}

const BASE = Date.UTC(2026, 0, 1, 12);
const minutes = (n: number) => new Date(BASE + n * 60_000);
const STATUSES: GenerationStatus[] = [
  'PENDING',
  'QUEUED',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'EXPIRED',
];

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** Inserts rows with unique prompts (the prompt identifies a row in responses). */
async function insertRows(
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
const newestFirst = (rows: Row[]) =>
  [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareIds(b.id, a.id));
const prompts = (rows: Row[]) => rows.map((row) => row.prompt);
const pagePrompts = (pages: Page[]) => pages.flatMap((p) => p.edges.map((e) => e.node.prompt));

async function readPage(key: string, variables: HistoryPageQueryVariables): Promise<Page> {
  const page = (await query(app, HistoryPage, variables, { key })).generations;
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

/** 57 rows; createdAt takes 19 values, each shared by 3 rows, in no particular insert order. */
async function tiedRows(ownerId: string) {
  return insertRows(ownerId, 57, (i) => ({ createdAt: minutes((i * 7) % 19) }));
}

describe('generations: keyset pagination', () => {
  it('walks forward with first/after through every row once, newest first, ties by id', async () => {
    const { account, key } = await createAccount();
    const rows = await tiedRows(account.id);
    const expected = prompts(newestFirst(rows));

    const pages = await walkForward(key, 7);

    expect(pages).toHaveLength(Math.ceil(rows.length / 7));
    expect(pagePrompts(pages)).toEqual(expected);
    expect(new Set(pagePrompts(pages)).size).toBe(rows.length);
    pages.forEach((page, i) => {
      expect(page.totalCount).toBe(rows.length);
      expect(page.pageInfo.hasPreviousPage).toBe(i > 0);
      expect(page.pageInfo.hasNextPage).toBe(i < pages.length - 1);
    });
    // Dates come back as ISO strings matching the rows.
    const byPrompt = new Map(rows.map((row) => [row.prompt, row]));
    for (const edge of pages.flatMap((p) => p.edges)) {
      expect(edge.node.createdAt).toBe(byPrompt.get(edge.node.prompt)?.createdAt.toISOString());
    }
  });

  it('walks backward with last/before from the end to the start', async () => {
    const { account, key } = await createAccount();
    const rows = await tiedRows(account.id);
    const expected = prompts(newestFirst(rows));

    const pages = await walkBackward(key, 7);

    expect(pages).toHaveLength(Math.ceil(rows.length / 7));
    // Each page is in list order; the pages arrive last page first.
    expect(pagePrompts([...pages].reverse())).toEqual(expected);
    expect(pages[0]?.edges.map((e) => e.node.prompt)).toEqual(expected.slice(-7));
    pages.forEach((page, i) => {
      expect(page.totalCount).toBe(rows.length);
      expect(page.pageInfo.hasNextPage).toBe(i > 0);
      expect(page.pageInfo.hasPreviousPage).toBe(i < pages.length - 1);
    });
  });

  it('reports neighbours on both sides of a page in the middle, in both directions', async () => {
    const { account, key } = await createAccount();
    const rows = await tiedRows(account.id);
    const expected = prompts(newestFirst(rows));
    const all = await readPage(key, { first: 100 });
    const cursorAt = (i: number) => all.edges[i]?.cursor ?? null;

    const forward = await readPage(key, { first: 7, after: cursorAt(20) });
    expect(forward.edges.map((e) => e.node.prompt)).toEqual(expected.slice(21, 28));
    expect(forward.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const backward = await readPage(key, { last: 7, before: cursorAt(30) });
    expect(backward.edges.map((e) => e.node.prompt)).toEqual(expected.slice(23, 30));
    expect(backward.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const first = await readPage(key, { first: 7 });
    expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const last = await readPage(key, { last: 7 });
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });

    // A page that ends exactly on the last row: no phantom next page.
    const tail = await readPage(key, { first: 7, after: cursorAt(rows.length - 8) });
    expect(tail.edges.map((e) => e.node.prompt)).toEqual(expected.slice(-7));
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const exact = await walkForward(key, 19);
    expect(exact.map((p) => p.edges.length)).toEqual([19, 19, 19]);
    expect(pagePrompts(exact)).toEqual(expected);
  });

  it('orders oldest first with CREATED_AT_ASC, in both directions', async () => {
    const { account, key } = await createAccount();
    const rows = await tiedRows(account.id);
    const expected = prompts(newestFirst(rows)).reverse();

    const forward = await walkForward(key, 7, { orderBy: 'CREATED_AT_ASC' });
    expect(pagePrompts(forward)).toEqual(expected);
    expect(forward[0]?.pageInfo.hasPreviousPage).toBe(false);

    const backward = await walkBackward(key, 7, { orderBy: 'CREATED_AT_ASC' });
    expect(pagePrompts([...backward].reverse())).toEqual(expected);
    expect(backward[0]?.pageInfo.hasNextPage).toBe(false);
  });
});

describe('generations: filters', () => {
  /** 56 rows of every status, two models, five seeds and tied timestamps. */
  async function mixedRows(ownerId: string) {
    return insertRows(ownerId, 56, (i) => ({
      createdAt: minutes((i * 5) % 28),
      status: STATUSES[i % STATUSES.length],
      model: i % 3 === 0 ? 'flux-dev' : 'flux-1.1-pro',
      seed: i % 5,
    }));
  }

  /** Walks forward with first: 4 and checks order, completeness and totalCount on every page. */
  async function expectFiltered(key: string, variables: Query, matching: Row[]) {
    expect(matching.length).toBeGreaterThan(0);
    const pages = await walkForward(key, 4, variables);
    const ordered = newestFirst(matching);
    const expected = variables.orderBy === 'CREATED_AT_ASC' ? ordered.reverse() : ordered;
    expect(pagePrompts(pages)).toEqual(prompts(expected));
    for (const page of pages) {
      expect(page.totalCount).toBe(matching.length);
    }
  }

  it('filters by a list of statuses', async () => {
    const { account, key } = await createAccount();
    const rows = await mixedRows(account.id);
    const wanted: GenerationStatus[] = ['FAILED', 'EXPIRED'];
    await expectFiltered(
      key,
      { filter: { status: wanted } },
      rows.filter((row) => wanted.includes(row.status)),
    );
    await expectFiltered(
      key,
      { filter: { status: ['QUEUED'] } },
      rows.filter((row) => row.status === 'QUEUED'),
    );
  });

  it('filters by model and by seed', async () => {
    const { account, key } = await createAccount();
    const rows = await mixedRows(account.id);
    await expectFiltered(
      key,
      { filter: { model: ['flux-dev'] } },
      rows.filter((row) => row.model === 'flux-dev'),
    );
    await expectFiltered(key, { filter: { model: ['flux-dev', 'flux-1.1-pro'] } }, rows);
    await expectFiltered(
      key,
      { filter: { seed: 3 } },
      rows.filter((row) => row.seed === 3),
    );
    // Seed 0 is a real value, not "no filter".
    await expectFiltered(
      key,
      { filter: { seed: 0 } },
      rows.filter((row) => row.seed === 0),
    );
  });

  it('filters by createdAfter and createdBefore, both strict', async () => {
    const { account, key } = await createAccount();
    const rows = await mixedRows(account.id);
    const after = minutes(5);
    const before = minutes(20);
    await expectFiltered(
      key,
      { filter: { createdAfter: after.toISOString() } },
      rows.filter((row) => row.createdAt > after),
    );
    await expectFiltered(
      key,
      { filter: { createdBefore: before.toISOString() } },
      rows.filter((row) => row.createdAt < before),
    );
    await expectFiltered(
      key,
      { filter: { createdAfter: after.toISOString(), createdBefore: before.toISOString() } },
      rows.filter((row) => row.createdAt > after && row.createdAt < before),
    );
    // The boundaries themselves hold rows, so strictness is observable.
    expect(rows.some((row) => row.createdAt.getTime() === after.getTime())).toBe(true);
    expect(rows.some((row) => row.createdAt.getTime() === before.getTime())).toBe(true);
  });

  it('searches prompts with English stemming, matching only the relevant rows', async () => {
    const { account, key } = await createAccount();
    const texts = [
      'a lighthouse at dusk',
      'two lighthouses on a cliff',
      'Lighthouse keeper portrait',
      'a red fox in the snow',
      'a house with bright lights',
      'mountain lake at dawn',
      'stormy sea, LIGHTHOUSES in the distance',
      'a light house party',
    ];
    const rows = await insertRows(account.id, texts.length * 3, (i) => ({
      createdAt: minutes(i % 4),
      prompt: `${texts[i % texts.length]} (${i})`,
    }));
    const lighthouses = rows.filter((row) => /lighthouse/i.test(row.prompt));
    expect(lighthouses.length).toBe(12);
    await expectFiltered(key, { filter: { search: 'lighthouse' } }, lighthouses);
    await expectFiltered(key, { filter: { search: 'lighthouses' } }, lighthouses);
    await expectFiltered(
      key,
      { filter: { search: 'fox snow' } },
      rows.filter((row) => row.prompt.startsWith('a red fox')),
    );
    const none = await readPage(key, { filter: { search: 'submarine' } });
    expect(none.edges).toEqual([]);
    expect(none.totalCount).toBe(0);
  });

  it('combines filters while paginating, in either order', async () => {
    const { account, key } = await createAccount();
    const rows = await insertRows(account.id, 70, (i) => ({
      createdAt: minutes((i * 3) % 35),
      status: STATUSES[i % STATUSES.length],
      model: i % 2 === 0 ? 'flux-dev' : 'flux-1.1-pro',
      prompt: i % 4 === 0 ? `a lighthouse, take ${i}` : `a forest, take ${i}`,
    }));
    const statuses: GenerationStatus[] = ['COMPLETED', 'FAILED', 'PENDING', 'QUEUED'];
    const since = minutes(3);
    const matching = rows.filter(
      (row) =>
        statuses.includes(row.status) &&
        row.model === 'flux-dev' &&
        row.prompt.includes('lighthouse') &&
        row.createdAt > since,
    );
    const filter = {
      status: statuses,
      model: ['flux-dev'],
      search: 'lighthouses',
      createdAfter: since.toISOString(),
    };
    await expectFiltered(key, { filter }, matching);
    await expectFiltered(key, { filter, orderBy: 'CREATED_AT_ASC' }, matching);
    const backward = await walkBackward(key, 3, { filter });
    expect(pagePrompts([...backward].reverse())).toEqual(prompts(newestFirst(matching)));
  });

  it('counts the filtered rows on every page, whatever the page', async () => {
    const { account, key } = await createAccount();
    const rows = await insertRows(account.id, 30, (i) => ({
      createdAt: minutes(i % 6),
      status: i % 3 === 0 ? 'FAILED' : 'COMPLETED',
    }));
    const failed = rows.filter((row) => row.status === 'FAILED').length;
    const filter = { status: ['FAILED' as const] };
    const head = await readPage(key, { first: 2, filter });
    const next = await readPage(key, { first: 2, after: head.pageInfo.endCursor, filter });
    const tail = await readPage(key, { last: 1, filter });
    const empty = await readPage(key, { first: 0, filter });
    for (const page of [head, next, tail, empty]) {
      expect(page.totalCount).toBe(failed);
    }
    expect((await readPage(key, { first: 1 })).totalCount).toBe(rows.length);
  });
});

describe('generations: arguments', () => {
  /** The response to a page read with this cursor, reduced to what a client would branch on. */
  async function readWithCursor(key: string, cursor: string) {
    const outcomes = [];
    for (const variables of [
      { first: 2, after: cursor },
      { last: 2, before: cursor },
    ]) {
      const body = await request(app, HistoryPage, variables, { key });
      outcomes.push({
        data: body.data ?? null,
        codes: body.errors?.map((e) => e.extensions?.code),
        messages: body.errors?.map((e) => e.message),
      });
    }
    return outcomes;
  }

  it('rejects a malformed cursor with BAD_USER_INPUT', async () => {
    const { account, key } = await createAccount();
    await insertRows(account.id, 3, (i) => ({ createdAt: minutes(i) }));
    const junk = [
      'not-a-cursor',
      Buffer.from('yesterday|123').toString('base64url'),
      Buffer.from(`${new Date(BASE).toISOString()}|not-a-uuid`).toString('base64url'),
      Buffer.from(new Date(BASE).toISOString()).toString('base64url'),
    ];
    for (const cursor of junk) {
      expect(await readWithCursor(key, cursor)).toEqual([
        {
          data: null,
          codes: ['BAD_USER_INPUT'],
          messages: ['after is not a cursor returned by this API'],
        },
        {
          data: null,
          codes: ['BAD_USER_INPUT'],
          messages: ['before is not a cursor returned by this API'],
        },
      ]);
    }
  });

  it('rejects an empty-string cursor like any other malformed one', async () => {
    const { account, key } = await createAccount();
    await insertRows(account.id, 3, (i) => ({ createdAt: minutes(i) }));
    // "" is not a cursor this API returned: an error, not silently the first (or last) page.
    expect(await readWithCursor(key, '')).toEqual([
      { data: null, codes: ['BAD_USER_INPUT'], messages: [expect.any(String)] },
      { data: null, codes: ['BAD_USER_INPUT'], messages: [expect.any(String)] },
    ]);
  });

  it('caps first and last at 100', async () => {
    const { account, key } = await createAccount();
    const rows = await insertRows(account.id, 105, (i) => ({ createdAt: minutes(i % 50) }));
    const expected = prompts(newestFirst(rows));

    const first = await readPage(key, { first: 150 });
    expect(first.edges.map((e) => e.node.prompt)).toEqual(expected.slice(0, 100));
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.totalCount).toBe(105);

    const last = await readPage(key, { last: 150 });
    expect(last.edges.map((e) => e.node.prompt)).toEqual(expected.slice(-100));
    expect(last.pageInfo.hasPreviousPage).toBe(true);

    const rest = await readPage(key, { first: 150, after: first.pageInfo.endCursor });
    expect(rest.edges.map((e) => e.node.prompt)).toEqual(expected.slice(100));
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it('returns no edges for first: 0, and 20 by default', async () => {
    const { account, key } = await createAccount();
    const rows = await insertRows(account.id, 25, (i) => ({ createdAt: minutes(i) }));

    const empty = await readPage(key, { first: 0 });
    expect(empty.edges).toEqual([]);
    expect(empty.totalCount).toBe(rows.length);

    const defaults = await readPage(key, {});
    expect(defaults.edges.map((e) => e.node.prompt)).toEqual(
      prompts(newestFirst(rows)).slice(0, 20),
    );
  });

  it('rejects negative sizes and first with last together', async () => {
    const { key } = await createAccount();
    for (const variables of [{ first: -1 }, { last: -5 }, { first: 2, last: 2 }]) {
      const body = await request(app, HistoryPage, variables, { key });
      expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
  });
});
