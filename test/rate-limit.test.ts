import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { graphql } from './gql/index.ts';
import { generateRequests, startTestApp, type TestApp } from './helpers/app.ts';
import { query } from './helpers/graphql.ts';

const Generate = graphql(`
  mutation RateLimitGenerate($input: GenerateImageInput!) {
    generateImage(input: $input) {
      __typename
      ... on RateLimitedError { code retryAfterSeconds }
    }
  }
`);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ RATE_LIMIT_PER_MINUTE: '3' });
});
afterAll(() => app.stop());

describe('per-account rate limit', () => {
  it('answers RateLimitedError past the limit, without recording or sending', async () => {
    const { account, key } = await createAccount();
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(
        (await query(app, Generate, { input: { prompt: `burst ${i}` } }, { key })).generateImage,
      );
    }
    expect(results.map((r) => r.__typename)).toEqual([
      'GenerateImageSuccess',
      'GenerateImageSuccess',
      'GenerateImageSuccess',
      'RateLimitedError',
    ]);
    const limited = results[3];
    if (limited?.__typename !== 'RateLimitedError') {
      throw new Error('expected RateLimitedError');
    }
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await db.generation.count({ where: { ownerId: account.id } })).toBe(3);
    const prompts = generateRequests(app).map((r) => (r.body as { prompt?: string }).prompt);
    expect(prompts).not.toContain('burst 3');
  });

  it('counts each account apart, and lets idempotent replays through', async () => {
    const a = await createAccount();
    const b = await createAccount();
    const input = { prompt: 'same', idempotencyKey: 'replay-me' };
    for (let i = 0; i < 5; i++) {
      const { generateImage } = await query(app, Generate, { input }, { key: a.key });
      expect(generateImage.__typename).toBe('GenerateImageSuccess');
    }
    const { generateImage } = await query(
      app,
      Generate,
      { input: { prompt: 'b' } },
      { key: b.key },
    );
    expect(generateImage.__typename).toBe('GenerateImageSuccess');
  });
});
