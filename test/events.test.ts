import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { GenerateImage } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';
import { nextPayloads, subscribeOverSse } from './helpers/sse.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('connect', () => resolve(true)).once('error', () => resolve(false));
    socket.once('timeout', () => resolve(false));
    socket.connect(Number(port || 6379), hostname);
  });
}

const available = await redisReachable();

describe.skipIf(!available)('generationUpdated across replicas (REDIS_URL)', () => {
  let worker: TestApp;
  let reader: TestApp;
  beforeAll(async () => {
    worker = await startTestApp({ REDIS_URL });
    // A second replica that runs no jobs: it can only hear of changes through Redis.
    reader = await startTestApp({ REDIS_URL }, false);
  });
  afterAll(async () => {
    await reader?.stopBackground();
    await worker?.stopBackground();
  });

  it('streams a change made by another process’s worker', async () => {
    const { key } = await createAccount();
    const { generateImage } = await query(
      worker,
      GenerateImage,
      { input: { prompt: 'across' } },
      { key },
    );
    if (generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(generateImage.__typename);
    }
    const events = await subscribeOverSse(
      reader,
      'subscription ($id: ID!) { generationUpdated(id: $id) { status } }',
      { id: generateImage.generation.id },
      key,
    );
    const statuses = nextPayloads<{ data?: { generationUpdated: { status: string } } }>(events).map(
      (update) => update.data?.generationUpdated.status,
    );
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses.length).toBeGreaterThanOrEqual(2);
  });
});
