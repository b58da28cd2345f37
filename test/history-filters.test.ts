import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationStatus } from '../src/generated/prisma/client.ts';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import {
  historyReader,
  insertRows,
  minutes,
  newestFirst,
  pagePrompts,
  prompts,
  type Query,
  type Row,
} from './helpers/history.ts';

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

const { readPage, walkForward, walkBackward } = historyReader(() => app);

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
