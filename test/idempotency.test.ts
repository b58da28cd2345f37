import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { generateRequests, startTestApp, type TestApp } from './helpers/app.ts';
import { GenerateImage } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';
import { waitForFinal } from './helpers/wait.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('idempotencyKey', () => {
  it('gives ten concurrent calls one generation and one upstream job', async () => {
    const { account, key } = await createAccount();
    const input = { prompt: 'ten at once', seed: 7, idempotencyKey: 'order-1234' };
    const upstreamBefore = generateRequests(app).length;
    const results = await Promise.all(
      Array.from({ length: 10 }, () => query(app, GenerateImage, { input }, { key })),
    );
    const ids = new Set(
      results.map((r) =>
        r.generateImage.__typename === 'GenerateImageSuccess'
          ? r.generateImage.generation.id
          : r.generateImage.__typename,
      ),
    );
    expect(ids.size).toBe(1);
    const [id] = [...ids] as [string];
    expect(await db.generation.count({ where: { ownerId: account.id } })).toBe(1);
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('COMPLETED');
    // A replay after completion still returns the same generation and sends nothing.
    const replay = await query(app, GenerateImage, { input }, { key });
    expect(
      replay.generateImage.__typename === 'GenerateImageSuccess' &&
        replay.generateImage.generation.id,
    ).toBe(id);
    expect(generateRequests(app).length - upstreamBefore).toBe(1);
  });

  it('answers the same key with other input with IdempotencyConflictError', async () => {
    const { key } = await createAccount();
    const first = await query(
      app,
      GenerateImage,
      { input: { prompt: 'first', idempotencyKey: 'k-1' } },
      { key },
    );
    if (first.generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(first.generateImage.__typename);
    }
    const second = await query(
      app,
      GenerateImage,
      { input: { prompt: 'second', idempotencyKey: 'k-1' } },
      { key },
    );
    if (second.generateImage.__typename !== 'IdempotencyConflictError') {
      throw new Error(second.generateImage.__typename);
    }
    expect(second.generateImage.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(second.generateImage.holder?.id).toBe(first.generateImage.generation.id);
    await waitForFinal(app, first.generateImage.generation.id, key);
    const prompts = generateRequests(app).map((r) => (r.body as { prompt?: string }).prompt);
    expect(prompts).toContain('first');
    expect(prompts).not.toContain('second');
  });

  it('scopes keys to their owner', async () => {
    const a = await createAccount();
    const b = await createAccount();
    const input = { prompt: 'same key, two owners', idempotencyKey: 'shared-key' };
    const ra = await query(app, GenerateImage, { input }, { key: a.key });
    const rb = await query(
      app,
      GenerateImage,
      { input: { ...input, prompt: 'other' } },
      { key: b.key },
    );
    expect(ra.generateImage.__typename).toBe('GenerateImageSuccess');
    expect(rb.generateImage.__typename).toBe('GenerateImageSuccess');
  });

  it('sends the generation id as the upstream Idempotency-Key', async () => {
    const { key } = await createAccount();
    const result = await query(app, GenerateImage, { input: { prompt: 'key check' } }, { key });
    if (result.generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(result.generateImage.__typename);
    }
    await waitForFinal(app, result.generateImage.generation.id, key);
    const row = await db.generation.findFirstOrThrow({
      where: { prompt: 'key check' },
      orderBy: { createdAt: 'desc' },
    });
    const sent = generateRequests(app).filter((r) => r.idempotencyKey === row.id);
    expect(sent).toHaveLength(1);
  });
});
