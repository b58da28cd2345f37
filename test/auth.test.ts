import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { query, request } from './helpers/graphql.ts';

const Viewer = graphql(`
  query AuthViewer {
    viewer { id name generationsToday dailyLimit }
  }
`);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('authentication', () => {
  it('resolves the caller from a Bearer key', async () => {
    const { account, key } = await createAccount({ dailyLimit: 5 });
    const { viewer } = await query(app, Viewer, {}, { key });
    expect(viewer).toEqual({
      id: account.id,
      name: account.name,
      generationsToday: 0,
      dailyLimit: 5,
    });
  });

  it('stores only the hash of a key', async () => {
    const { account, key } = await createAccount();
    const stored = await db.apiKey.findFirstOrThrow({ where: { accountId: account.id } });
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(stored.prefix).toBe(key.slice(0, 8));
  });

  it('rejects a wrong, malformed or revoked key with 401, and never echoes it', async () => {
    const { account, key } = await createAccount();
    await db.apiKey.updateMany({
      where: { accountId: account.id },
      data: { revokedAt: new Date() },
    });
    for (const header of [`Bearer ${key}`, 'Bearer fg_wrong_key', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const response = await app.yoga.fetch('http://fluxgate.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: header },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      });
      expect(response.status).toBe(401);
      const text = await response.text();
      expect(text).toContain('UNAUTHENTICATED');
      expect(text).not.toContain(key);
    }
  });

  it('acts as the local account without a header outside production', async () => {
    const body = await request(app, Viewer, {});
    expect(body.data?.viewer.name).toBe('local');
  });

  it('requires a key in production', async () => {
    const production = await startTestApp({ NODE_ENV: 'production' });
    try {
      const body = await request(production, Viewer, {}, { status: 401 });
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const { key } = await createAccount();
      const ok = await query(production, Viewer, {}, { key });
      expect(ok.viewer.id).toBeTruthy();
    } finally {
      await production.stop();
    }
  });
});

describe('npm run account:create', () => {
  it('prints the key alone on the last line, and the key works', () => {
    const name = `cli-${Date.now()}`;
    const out = execFileSync(
      process.execPath,
      ['scripts/create-account.ts', name, '--daily-limit', '3'],
      {
        env: { ...process.env, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
      },
    );
    const key = out.trim().split('\n').at(-1) ?? '';
    expect(key).toMatch(/^fg_[A-Za-z0-9_-]{32}$/);
    return query(app, Viewer, {}, { key }).then(({ viewer }) => {
      expect(viewer).toMatchObject({ name, dailyLimit: 3 });
    });
  });
});

describe('daily quota', () => {
  it('answers QuotaExceededError past the limit, without recording or sending', async () => {
    const { account, key } = await createAccount({ dailyLimit: 2 });
    const Generate = graphql(`
      mutation AuthQuotaGenerate($input: GenerateImageInput!) {
        generateImage(input: $input) {
          __typename
          ... on QuotaExceededError { code limit resetsAt }
        }
      }
    `);
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(
        (await query(app, Generate, { input: { prompt: `quota ${i}` } }, { key })).generateImage,
      );
    }
    expect(results.map((r) => r.__typename)).toEqual([
      'GenerateImageSuccess',
      'GenerateImageSuccess',
      'QuotaExceededError',
    ]);
    const exceeded = results[2];
    if (exceeded?.__typename !== 'QuotaExceededError') {
      throw new Error('expected QuotaExceededError');
    }
    expect(exceeded.limit).toBe(2);
    expect(new Date(exceeded.resetsAt).getUTCHours()).toBe(0);
    expect(new Date(exceeded.resetsAt).getTime()).toBeGreaterThan(Date.now());
    expect(await db.generation.count({ where: { ownerId: account.id } })).toBe(2);
    const { viewer } = await query(app, Viewer, {}, { key });
    expect(viewer.generationsToday).toBe(2);
  });
});
