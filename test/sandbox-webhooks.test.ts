import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox, sandboxOptionsFromEnv } from '../src/sandbox/index.ts';
import { resultUrls } from '../src/upstream/job.ts';
import {
  parseWebhookPayload,
  verifyWebhookSignature,
  type WebhookPayload,
} from '../src/upstream/webhook.ts';
import {
  download,
  type Json,
  type ReceivedWebhook,
  request,
  SMALL,
  sandboxCalls,
  startWebhookReceiver,
  type WebhookReceiver,
} from './helpers/sandbox.ts';

let sandbox: Sandbox;
let receiver: WebhookReceiver;

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, latencyMs: 300 });
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await sandbox.close();
  await receiver.close();
});

beforeEach(() => {
  sandbox.reset();
  receiver.received.length = 0;
  receiver.respondWith(204);
});

const { call, generate, waitFor } = sandboxCalls(() => sandbox);

/** Submits a small job whose webhooks go to `url` (the receiver by default). */
async function submitHooked(prompt: string, extra: Json = {}): Promise<string> {
  const reply = await generate({ ...request(prompt, SMALL), webhookUrl: receiver.url, ...extra });
  expect(reply.status).toBe(202);
  return String(reply.json.jobId);
}

/** Checks what every delivery must satisfy and returns the payload. */
function verified(hook: ReceivedWebhook): WebhookPayload {
  expect(hook.path).toBe('/hooks/apiframe');
  expect(hook.contentType).toBe('application/json');
  expect(hook.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(verifyWebhookSignature(hook.raw, hook.signature, sandbox.apiKey)).toBe(true);
  expect(verifyWebhookSignature(hook.raw, hook.signature, 'afk_other')).toBe(false);
  const payload = parseWebhookPayload(JSON.parse(hook.raw.toString('utf8')));
  expect(payload).not.toBeNull();
  expect(hook.event).toBe(payload?.event);
  return payload as WebhookPayload;
}

async function jobJson(jobId: string): Promise<Json> {
  return (await call('GET', `/v2/jobs/${jobId}`)).json;
}

describe('webhook delivery', () => {
  it.each([
    ['images', (result: unknown) => (result as { images: string[] }).images.length === 1],
    ['string', (result: unknown) => typeof result === 'string'],
  ] as const)(
    'sends progress… then completed, signed, with the %s result shape',
    async (shape, isShape) => {
      sandbox.setFaults({ resultShape: shape });
      const submittedAt = Date.now();
      const jobId = await submitHooked(`hooked ${shape}`);
      expect((await jobJson(jobId)).webhookStatus).toBe('pending');
      await sandbox.webhooksIdle();
      expect(Date.now() - submittedAt).toBeGreaterThanOrEqual(300);

      const payloads = receiver.received.map(verified);
      expect(payloads.map((p) => p.event)).toEqual([
        'progress',
        'progress',
        'progress',
        'completed',
      ]);
      expect(payloads.every((p) => p.jobId === jobId && p.model === 'flux-1.1-pro')).toBe(true);
      const progress = payloads.slice(0, 3);
      expect(progress.map((p) => [p.status, p.progress])).toEqual([
        ['PROCESSING', 25],
        ['PROCESSING', 50],
        ['PROCESSING', 75],
      ]);
      expect(progress.every((p) => p.result === undefined)).toBe(true);

      const completed = payloads[3];
      const job = await jobJson(jobId);
      expect(completed).toMatchObject({ status: 'COMPLETED', progress: 100, creditCost: 4 });
      expect(completed?.completedAt).toBe(job.completedAt);
      expect(isShape(completed?.result)).toBe(true);
      expect(completed?.result).toEqual(job.result);
      const urls = resultUrls(completed?.result);
      expect(urls).toHaveLength(1);
      const image = await download(String(urls[0]));
      expect([image.status, image.type]).toEqual([200, 'image/webp']);

      expect(job.webhookStatus).toBe('delivered');
      const expected = ['progress', 'progress', 'progress', 'completed'].map((event) => ({
        jobId,
        event,
        url: receiver.url,
        status: 204,
        dropped: false,
        duplicate: false,
      }));
      expect(sandbox.webhookDeliveries).toEqual(expected);
      const overHttp = await fetch(`${sandbox.url}/__sandbox/webhooks`);
      expect(await overHttp.json()).toEqual(expected);
    },
  );

  it('sends a progress event only once polling shows that progress', async () => {
    sandbox.setFaults({ latencyMs: 600 });
    const jobId = await submitHooked('in step');
    const deadline = Date.now() + 2000;
    while (receiver.received.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = verified(receiver.received[0] as ReceivedWebhook);
    const polled = await jobJson(jobId);
    expect(polled.status).toBe('PROCESSING');
    expect(Number(polled.progress)).toBeGreaterThanOrEqual(Number(first.progress));
    await sandbox.webhooksIdle();
  });

  it('sends failed with the error and no cost, result or completedAt', async () => {
    sandbox.setFaults({ failRate: 1 });
    const jobId = await submitHooked('doomed');
    await sandbox.webhooksIdle();
    const payloads = receiver.received.map(verified);
    expect(payloads.map((p) => p.event)).toEqual(['progress', 'progress', 'progress', 'failed']);
    const failed = payloads[3] as WebhookPayload;
    expect(failed).toMatchObject({
      jobId,
      status: 'FAILED',
      error: 'Provider returned an error: sandbox failure',
    });
    for (const key of ['creditCost', 'completedAt', 'result', 'progress']) {
      expect(failed).not.toHaveProperty(key);
    }
    expect((await jobJson(jobId)).webhookStatus).toBe('delivered');
  });

  it('sends only the requested events', async () => {
    const onlyCompleted = await submitHooked('only completed', { webhookEvents: ['completed'] });
    await sandbox.webhooksIdle();
    expect(receiver.received.map((hook) => verified(hook).event)).toEqual(['completed']);
    expect((await jobJson(onlyCompleted)).webhookStatus).toBe('delivered');

    receiver.received.length = 0;
    sandbox.setFaults({ failRate: 1 });
    const quiet = await submitHooked('not told', { webhookEvents: ['completed'] });
    await sandbox.webhooksIdle();
    expect(receiver.received).toEqual([]);
    expect((await jobJson(quiet)).status).toBe('FAILED');
    // Nothing owed, nothing lost.
    expect((await jobJson(quiet)).webhookStatus).toBe('delivered');
  });

  it('sends only progress for a job that never finishes', async () => {
    sandbox.setFaults({ neverFinishRate: 1 });
    const jobId = await submitHooked('stuck');
    await sandbox.webhooksIdle();
    expect(receiver.received.map((hook) => verified(hook).event)).toEqual([
      'progress',
      'progress',
      'progress',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.received).toHaveLength(3);
    expect((await jobJson(jobId)).webhookStatus).toBe('pending');
  });

  it('sends nothing without a webhookUrl, and nothing again for an idempotent replay', async () => {
    await generate(request('unhooked', SMALL));
    const body = { ...request('replayed', SMALL), webhookUrl: receiver.url };
    const first = await generate(body, 'hook-once');
    const replay = await generate(body, 'hook-once');
    expect([first.status, replay.status]).toEqual([202, 200]);
    await sandbox.webhooksIdle();
    expect(new Set(receiver.received.map((hook) => verified(hook).jobId))).toEqual(
      new Set([first.json.jobId]),
    );
    expect(receiver.received).toHaveLength(4);
    const unhooked = [...sandbox.jobs.values()].find((job) => job.prompt === 'unhooked');
    expect(unhooked?.webhookStatus).toBeNull();
  });

  it('gives a completed webhook a URL that is already gone under urlTtlS 0', async () => {
    sandbox.setFaults({ urlTtlS: 0 });
    const jobId = await submitHooked('short lived', { webhookEvents: ['completed'] });
    await sandbox.webhooksIdle();
    const [url] = resultUrls(verified(receiver.received[0] as ReceivedWebhook).result);
    const gone = await fetch(String(url));
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: 'File expired' });
    expect((await jobJson(jobId)).expired).toBe(true);
  });

  it('stops planned webhooks on reset', async () => {
    await submitHooked('forgotten');
    sandbox.reset();
    await sandbox.webhooksIdle();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.received).toEqual([]);
    expect(sandbox.webhookDeliveries).toEqual([]);
  });

  it('abandons an in-flight delivery and the events queued behind it on reset', async () => {
    let seen = 0;
    const hanging = createServer(() => {
      seen += 1; // never answers
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      sandbox.setFaults({ latencyMs: 100 });
      await submitHooked('stalled', { webhookUrl: `http://127.0.0.1:${port}/hook` });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(seen).toBe(1);
      sandbox.reset();
      await sandbox.webhooksIdle();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toBe(1);
      expect(sandbox.webhookDeliveries).toEqual([]);
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});

describe('webhook faults', () => {
  it('drops every delivery under dropWebhookRate 1, recording each as dropped', async () => {
    sandbox.setFaults({ dropWebhookRate: 1 });
    const jobId = await submitHooked('dropped');
    await sandbox.webhooksIdle();
    expect(receiver.received).toEqual([]);
    expect(sandbox.webhookDeliveries.map((d) => [d.event, d.status, d.dropped])).toEqual([
      ['progress', null, true],
      ['progress', null, true],
      ['progress', null, true],
      ['completed', null, true],
    ]);
    const job = await jobJson(jobId);
    expect([job.status, job.webhookStatus]).toEqual(['COMPLETED', 'failed']);
  });

  it('sends each event twice, byte for byte, under duplicateWebhookRate 1', async () => {
    sandbox.setFaults({ duplicateWebhookRate: 1 });
    await submitHooked('twice');
    await sandbox.webhooksIdle();
    const hooks = receiver.received;
    expect(hooks.map((hook) => verified(hook).event)).toEqual(
      ['progress', 'progress', 'progress', 'completed'].flatMap((event) => [event, event]),
    );
    for (let index = 0; index < hooks.length; index += 2) {
      expect(hooks[index]?.raw.equals(hooks[index + 1]?.raw ?? Buffer.alloc(0))).toBe(true);
      expect(hooks[index]?.signature).toBe(hooks[index + 1]?.signature);
    }
    expect(sandbox.webhookDeliveries.map((d) => d.duplicate)).toEqual(
      Array.from({ length: 8 }, (_, index) => index % 2 === 1),
    );
  });

  it('delays each delivery by webhookDelayMs', async () => {
    sandbox.setFaults({ latencyMs: 100, webhookDelayMs: 300 });
    const submittedAt = Date.now();
    await submitHooked('late', { webhookEvents: ['completed'] });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(receiver.received).toEqual([]);
    await sandbox.webhooksIdle();
    expect(Date.now() - submittedAt).toBeGreaterThanOrEqual(400);
    expect(receiver.received).toHaveLength(1);
  });

  it('records a 500 answer and stays healthy', async () => {
    receiver.respondWith(500);
    const jobId = await submitHooked('refused');
    await sandbox.webhooksIdle();
    expect(receiver.received).toHaveLength(4);
    expect(sandbox.webhookDeliveries.map((d) => [d.status, d.dropped])).toEqual(
      Array(4).fill([500, false]),
    );
    expect((await jobJson(jobId)).webhookStatus).toBe('failed');
    expect((await call('GET', '/v2/me')).status).toBe(200);

    receiver.respondWith(200);
    const next = await submitHooked('accepted', { webhookEvents: ['completed'] });
    await waitFor(next, 'COMPLETED');
    await sandbox.webhooksIdle();
    expect((await jobJson(next)).webhookStatus).toBe('delivered');
  });

  it('records a network error as status null, not dropped', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const jobId = await submitHooked('unreachable', {
      webhookUrl: `http://127.0.0.1:${port}/hook`,
      webhookEvents: ['completed'],
    });
    await sandbox.webhooksIdle();
    expect(sandbox.webhookDeliveries).toMatchObject([
      { jobId, event: 'completed', status: null, dropped: false },
    ]);
    expect((await jobJson(jobId)).webhookStatus).toBe('failed');
    expect((await call('GET', '/v2/me')).status).toBe(200);
  });

  it('takes the webhook switches over HTTP and from SANDBOX_* variables', async () => {
    const set = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ dropWebhookRate: 0.5, duplicateWebhookRate: 0.25, webhookDelayMs: 7 }),
    });
    expect(set.status).toBe(200);
    expect(sandbox.faults).toMatchObject({
      dropWebhookRate: 0.5,
      duplicateWebhookRate: 0.25,
      webhookDelayMs: 7,
    });
    for (const bad of [{ dropWebhookRate: 2 }, { webhookDelayMs: -1 }, { webhookDelayMs: 1.5 }]) {
      const reply = await fetch(`${sandbox.url}/__sandbox/faults`, {
        method: 'POST',
        body: JSON.stringify(bad),
      });
      expect(reply.status).toBe(400);
    }
    sandbox.reset();
    expect(sandbox.faults).toMatchObject({
      dropWebhookRate: 0,
      duplicateWebhookRate: 0,
      webhookDelayMs: 0,
    });

    const options = sandboxOptionsFromEnv({
      SANDBOX_DROP_WEBHOOK_RATE: '0.1',
      SANDBOX_DUPLICATE_WEBHOOK_RATE: '1',
      SANDBOX_WEBHOOK_DELAY_MS: '250',
    });
    expect(options.faults).toEqual({
      dropWebhookRate: 0.1,
      duplicateWebhookRate: 1,
      webhookDelayMs: 250,
    });
    expect(() => sandboxOptionsFromEnv({ SANDBOX_WEBHOOK_DELAY_MS: 'soon' })).toThrow(
      /SANDBOX_WEBHOOK_DELAY_MS/,
    );
  });
});
