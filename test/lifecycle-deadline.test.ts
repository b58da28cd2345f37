import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { GenerateImage } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';
import { waitForFinal } from './helpers/wait.ts';

// A file of its own: its app has a 2 s deadline, and a second app on the same queue would
// take its jobs to another sandbox.
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ GENERATION_TIMEOUT_S: '2' });
});
afterAll(() => app.stop());

describe('the generation deadline', () => {
  it('ends a job that never finishes as EXPIRED, and nothing changes it afterwards', async () => {
    const { key } = await createAccount();
    app.sandbox.setFaults({ neverFinishRate: 1 });
    const started = Date.now();
    const { generateImage } = await query(
      app,
      GenerateImage,
      { input: { prompt: 'never' } },
      { key },
    );
    if (generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(generateImage.__typename);
    }
    const generation = await waitForFinal(app, generateImage.generation.id, key, 10_000);
    expect(generation.status).toBe('EXPIRED');
    expect(generation.error?.code).toBe('EXPIRED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    // No step of it is left queued, and a later status poll has nothing to move.
    const row = await db.generation.findFirstOrThrow({
      where: { upstreamJobId: generation.upstreamJobId },
    });
    const jobs = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE key LIKE ${`%${row.id}`}`;
    expect(jobs[0]?.n).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await waitForFinal(app, generateImage.generation.id, key)).status).toBe('EXPIRED');
  });

  it('also expires a generation upstream never accepts', async () => {
    const { key } = await createAccount();
    app.sandbox.setFaults({ neverFinishRate: 0, httpFaults: [{ route: 'generate', status: 503 }] });
    const { generateImage } = await query(
      app,
      GenerateImage,
      { input: { prompt: 'down' } },
      { key },
    );
    if (generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(generateImage.__typename);
    }
    const generation = await waitForFinal(app, generateImage.generation.id, key, 10_000);
    expect(generation.status).toBe('EXPIRED');
    expect(generation.upstreamJobId).toBeNull();
  });
});
