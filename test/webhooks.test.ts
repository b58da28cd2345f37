import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { signWebhook } from '../src/upstream/webhook.ts';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { GenerateImage, startGeneration } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';
import { freePort } from './helpers/process.ts';
import { waitForFinal } from './helpers/wait.ts';

// The service listens for real here: the sandbox upstream calls it back over HTTP.
let app: TestApp;
let server: Server;
let publicUrl: string;
let key: string;
beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  app = await startTestApp({
    PUBLIC_URL: publicUrl,
    WEBHOOKS: 'on',
    // Polling stays on as the fallback, but slow: a prompt completion proves the webhook.
    POLL_WITH_WEBHOOKS_MS: '60000',
  });
  server = createServer(app.yoga);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  ({ key } = await createAccount());
});
afterEach(() => app.sandbox.setFaults({ dropWebhookRate: 0, duplicateWebhookRate: 0 }));
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await app.stop();
});

const generate = (prompt: string) => startGeneration(app, key, { prompt });

const rowOf = (upstreamJobId: string | null | undefined) =>
  db.generation.findFirstOrThrow({
    where: { upstreamJobId: upstreamJobId ?? '' },
    include: { images: true },
  });

function postWebhook(body: string, signature?: string) {
  return fetch(`${publicUrl}/webhooks/apiframe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-webhook-event': 'completed',
      ...(signature ? { 'x-webhook-signature': signature } : {}),
    },
    body,
  });
}

describe('apiframe webhooks', () => {
  it('complete a generation while polling is slowed, and are sent with each job', async () => {
    const id = await generate('by webhook');
    const generation = await waitForFinal(app, id, key, 10_000);
    expect(generation.status).toBe('COMPLETED');
    expect(generation.images).toHaveLength(1);
    const row = await rowOf(generation.upstreamJobId);
    expect(row.webhookEvents).toBeGreaterThan(0);
    expect(row.pollCount).toBe(0);
    const sent = app.sandbox.requests.find((r) => r.idempotencyKey === row.id);
    expect(sent?.body).toMatchObject({
      webhookUrl: `${publicUrl}/webhooks/apiframe`,
      webhookEvents: ['progress', 'completed', 'failed'],
    });
  });

  it('refuse a forged event with 401 and change nothing', async () => {
    app.sandbox.setFaults({ latencyMs: 60_000 });
    const id = await generate('forgery target');
    let row = await db.generation.findFirstOrThrow({ where: { prompt: 'forgery target' } });
    for (let i = 0; i < 50 && !row.upstreamJobId; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      row = await db.generation.findUniqueOrThrow({ where: { id: row.id } });
    }
    const forged = JSON.stringify({
      event: 'completed',
      jobId: row.upstreamJobId,
      status: 'COMPLETED',
      progress: 100,
      result: { images: ['http://127.0.0.1:1/evil.png'] },
    });
    const attempts = [
      await postWebhook(forged),
      await postWebhook(forged, signWebhook(forged, 'afk_some_other_key')),
      await postWebhook(forged, signWebhook(`${forged} `, app.sandbox.apiKey)),
      await postWebhook(forged, 'sha256=zz'),
    ];
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    const after = await db.generation.findUniqueOrThrow({ where: { id: row.id } });
    expect(after).toMatchObject({
      status: row.status,
      progress: row.progress,
      resultUrls: [],
      webhookEvents: 0,
    });
    // A well-signed body that is not a job event is refused as such.
    const junk = JSON.stringify({ hello: 'world' });
    expect((await postWebhook(junk, signWebhook(junk, app.sandbox.apiKey))).status).toBe(400);
    expect(id).toBeTruthy();
  });

  it('make a replayed or out-of-order event harmless', async () => {
    app.sandbox.setFaults({ latencyMs: 300 });
    const id = await generate('replayed');
    const done = await waitForFinal(app, id, key);
    const before = await rowOf(done.upstreamJobId);
    const events = [
      {
        event: 'completed',
        status: 'COMPLETED',
        progress: 100,
        result: 'http://127.0.0.1:1/other.png',
      },
      { event: 'progress', status: 'PROCESSING', progress: 10 },
      { event: 'failed', status: 'FAILED', error: 'late failure' },
    ];
    for (const event of events) {
      const body = JSON.stringify({ ...event, jobId: done.upstreamJobId });
      expect((await postWebhook(body, signWebhook(body, app.sandbox.apiKey))).status).toBe(204);
    }
    const after = await rowOf(done.upstreamJobId);
    expect(after.status).toBe('COMPLETED');
    expect(after.completedAt).toEqual(before.completedAt);
    expect(after.images.map((i) => i.sha256)).toEqual(before.images.map((i) => i.sha256));
    expect(after.resultUrls).toEqual(before.resultUrls);
  });

  it('download each image once when every event arrives twice', async () => {
    app.sandbox.setFaults({ latencyMs: 300, duplicateWebhookRate: 1 });
    const id = await generate('duplicated');
    const done = await waitForFinal(app, id, key);
    expect(done.status).toBe('COMPLETED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const downloads = app.sandbox.requests.filter((r) =>
      r.path.startsWith(`/files/${done.upstreamJobId}`),
    );
    expect(downloads).toHaveLength(1);
  });
});

describe('webhooks lost on the way', () => {
  it('leave polling to finish the job', async () => {
    const fallback = await startTestApp({
      PUBLIC_URL: 'http://127.0.0.1:9',
      WEBHOOKS: 'on',
      POLL_WITH_WEBHOOKS_MS: '200',
    });
    await app.stopBackground();
    try {
      fallback.sandbox.setFaults({ latencyMs: 300, dropWebhookRate: 1 });
      const { generateImage } = await query(
        fallback,
        GenerateImage,
        { input: { prompt: 'dropped' } },
        { key },
      );
      if (generateImage.__typename !== 'GenerateImageSuccess') {
        throw new Error(generateImage.__typename);
      }
      const done = await waitForFinal(fallback, generateImage.generation.id, key);
      expect(done.status).toBe('COMPLETED');
      const row = await rowOf(done.upstreamJobId);
      expect(row.webhookEvents).toBe(0);
      expect(row.pollCount).toBeGreaterThan(0);
    } finally {
      await fallback.stopBackground();
    }
  });
});
