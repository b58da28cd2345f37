import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { request } from './helpers/graphql.ts';
import {
  BASE,
  HistoryPage,
  historyReader,
  insertRows,
  minutes,
  newestFirst,
  pagePrompts,
  prompts,
} from './helpers/history.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const { readPage, walkForward, walkBackward } = historyReader(() => app);

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
