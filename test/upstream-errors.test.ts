import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { generateRequests, startTestApp, type TestApp } from './helpers/app.ts';
import { startGeneration } from './helpers/documents.ts';
import { waitForFinal } from './helpers/wait.ts';

let app: TestApp;
let key: string;
beforeAll(async () => {
  app = await startTestApp();
  ({ key } = await createAccount());
});
afterEach(() => app.sandbox.setFaults({ httpFaults: [], credits: 1_000_000, failRate: 0 }));
afterAll(() => app.stop());

const generate = (prompt: string) => startGeneration(app, key, { prompt });

/** Submissions upstream for one generation (its id is the Idempotency-Key). */
async function submissionsOf(globalId: string) {
  const row = await db.generation.findFirstOrThrow({
    where: { id: Buffer.from(globalId, 'base64').toString().split(':')[1] },
  });
  return { row, sent: generateRequests(app).filter((r) => r.idempotencyKey === row.id) };
}

describe('upstream errors at submit', () => {
  it.each([
    [401, 'UPSTREAM_UNAUTHORIZED'],
    [403, 'UPSTREAM_FORBIDDEN'],
    [400, 'INVALID_REQUEST'],
  ])('%i is final: FAILED with %s after one request', async (status, code) => {
    app.sandbox.setFaults({ httpFaults: [{ route: 'generate', status, times: 1 }] });
    const id = await generate(`status ${status}`);
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('FAILED');
    expect(generation.error?.code).toBe(code);
    expect(generation.images).toEqual([]);
    const { sent, row } = await submissionsOf(id);
    expect(sent).toHaveLength(1);
    expect(row.upstreamJobId).toBeNull();
  });

  it('402 (no credits) is final: FAILED with INSUFFICIENT_CREDITS and upstream’s message', async () => {
    app.sandbox.setFaults({ credits: 0 });
    const id = await generate('no credits');
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('FAILED');
    expect(generation.error).toEqual({
      code: 'INSUFFICIENT_CREDITS',
      message: expect.stringContaining('Insufficient credits'),
    });
    expect((await submissionsOf(id)).sent).toHaveLength(1);
  });

  it('429 honours Retry-After, then completes with the same Idempotency-Key', async () => {
    app.sandbox.setFaults({
      httpFaults: [{ route: 'generate', status: 429, times: 2, retryAfterS: 1 }],
    });
    const started = Date.now();
    const id = await generate('rate limited');
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('COMPLETED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    const { sent, row } = await submissionsOf(id);
    expect(sent.map((r) => r.status)).toEqual([429, 429, 202]);
    expect(row.submitAttempts).toBe(3);
  });

  it('503 is retried with backoff and completes; the generation waits in PENDING', async () => {
    app.sandbox.setFaults({ httpFaults: [{ route: 'generate', status: 503, times: 2 }] });
    const id = await generate('service unavailable');
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('COMPLETED');
    const { sent } = await submissionsOf(id);
    expect(sent.map((r) => r.status)).toEqual([503, 503, 202]);
  });

  it('stays PENDING while upstream is down, and is submitted once it is back', async () => {
    app.sandbox.setFaults({ httpFaults: [{ route: 'generate', status: 503 }] });
    const id = await generate('upstream down');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { row } = await submissionsOf(id);
    expect(row.status).toBe('PENDING');
    expect(row.submitAttempts).toBeGreaterThanOrEqual(1);
    app.sandbox.setFaults({ httpFaults: [] });
    const generation = await waitForFinal(app, id, key, 20_000);
    expect(generation.status).toBe('COMPLETED');
  });
});

describe('upstream errors while following a job', () => {
  it('keeps polling through 503s on the job status', async () => {
    app.sandbox.setFaults({ httpFaults: [{ route: 'job', status: 503, times: 3 }] });
    const id = await generate('flaky status');
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('COMPLETED');
  });

  it('records a FAILED upstream job with its message and code', async () => {
    app.sandbox.setFaults({ failRate: 1 });
    const id = await generate('will fail');
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('FAILED');
    expect(generation.error?.code).toBe('GENERATION_FAILED');
    expect(generation.error?.message).toContain('Provider returned an error');
    expect(generation.images).toEqual([]);
  });
});
