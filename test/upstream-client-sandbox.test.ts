import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { parseRetryAfter } from '../src/upstream/errors.ts';
import { resultUrls } from '../src/upstream/job.ts';
import {
  body,
  closeLocalServers,
  failure,
  localServer,
  upstreamClients,
} from './helpers/upstream-client.ts';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, latencyMs: 150, apiKey: 'afk_client_test_secret' });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.reset();
});

afterEach(closeLocalServers);

const { client, untilFinal } = upstreamClients(() => sandbox);

describe('against the sandbox', () => {
  it('creates a job and follows it to COMPLETED', async () => {
    const api = client();
    const sent = body('round trip', { seed: 3 });
    const created = await api.createJob(sent, { idempotencyKey: 'gen-round-trip' });
    expect(created.status).toBe('QUEUED');
    expect(sandbox.jobs.has(created.jobId)).toBe(true);
    const recorded = sandbox.requests.at(-1);
    expect(recorded).toMatchObject({
      idempotencyKey: 'gen-round-trip',
      hasApiKey: true,
      body: sent,
    });

    const job = await untilFinal(created.jobId);
    expect(job).toMatchObject({
      id: created.jobId,
      status: 'COMPLETED',
      model: 'flux-1.1-pro',
      creditCost: 4,
    });
    const [url] = resultUrls(job.result);
    const image = await fetch(String(url));
    expect(image.headers.get('content-type')).toBe('image/png');
  });

  it('reads both result shapes through resultUrls', async () => {
    const api = client();
    sandbox.setFaults({ resultShape: 'string' });
    const asString = await untilFinal(
      (await api.createJob(body('string'), { idempotencyKey: 's' })).jobId,
    );
    sandbox.setFaults({ resultShape: 'images' });
    const asImages = await untilFinal(
      (await api.createJob(body('images'), { idempotencyKey: 'i' })).jobId,
    );
    expect(typeof asString.result).toBe('string');
    expect(Array.isArray((asImages.result as { images: unknown }).images)).toBe(true);
    expect(resultUrls(asString.result)).toEqual([asString.result]);
    expect(resultUrls(asImages.result)).toHaveLength(1);
    expect(resultUrls(asImages.result)[0]).toMatch(new RegExp(`/files/${asImages.id}/0\\.png$`));
  });

  it('resultUrls keeps only URL strings and accepts nothing else', () => {
    expect(resultUrls({ images: ['a', 3, 'b'], gridUrl: 'g' })).toEqual(['a', 'b']);
    expect(resultUrls(null)).toEqual([]);
    expect(resultUrls(undefined)).toEqual([]);
    expect(resultUrls({ url: 'x' })).toEqual([]);
  });

  it('lists jobs page by page and reads /me', async () => {
    const api = client();
    for (const prompt of ['one', 'two', 'three']) {
      await api.createJob(body(prompt), { idempotencyKey: prompt });
    }
    const first = await api.listJobs({ limit: 2 });
    expect(first.jobs).toHaveLength(2);
    expect(first.hasMore).toBe(true);
    const second = await api.listJobs({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second).toMatchObject({ hasMore: false, nextCursor: null });
    expect([...first.jobs, ...second.jobs].map((job) => job.id).sort()).toEqual(
      [...sandbox.jobs.keys()].sort(),
    );
    const account = await api.me();
    expect(account.team?.credits).toBe(1_000_000 - 12);
  });
});

describe('error classification', () => {
  it('400 → INVALID_REQUEST with field details', async () => {
    const invalid = {
      ...body('bad'),
      fluxParams: { aspect_ratio: 'custom', width: 300, height: 256 },
    };
    const error = await failure(client().createJob(invalid, { idempotencyKey: 'bad' }));
    expect(error).toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      retryable: false,
      message: 'Validation failed',
    });
    expect(error.details).toEqual({ 'fluxParams.width': ['width must be a multiple of 32'] });
    expect(error.requestId).toMatch(/\S+/);
  });

  it.each([
    { name: '401 wrong key', status: 401, code: 'UPSTREAM_UNAUTHORIZED', retryable: false },
    { name: '402 no credits', status: 402, code: 'INSUFFICIENT_CREDITS', retryable: false },
    { name: '403 fault', status: 403, code: 'UPSTREAM_FORBIDDEN', retryable: false },
    { name: '500 fault', status: 500, code: 'UPSTREAM_ERROR', retryable: true },
    { name: '502 fault', status: 502, code: 'UPSTREAM_ERROR', retryable: true },
    { name: '503 fault', status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
  ])('$name → $code', async ({ name, status, code, retryable }) => {
    let api = client();
    if (name.includes('wrong key')) {
      api = client({ apiKey: 'afk_not_the_key' });
    } else if (status === 402) {
      sandbox.setFaults({ credits: 0 });
    } else {
      sandbox.setFaults({ httpFaults: [{ route: 'generate', status, times: 1 }] });
    }
    const error = await failure(api.createJob(body(name), { idempotencyKey: name }));
    expect(error).toMatchObject({ status, code, retryable, retryAfterMs: null });
    expect(error.message.length).toBeGreaterThan(0);
    expect(sandbox.jobs.size).toBe(0);
  });

  it('402 carries upstream text; 404 → UPSTREAM_NOT_FOUND', async () => {
    sandbox.setFaults({ credits: 1 });
    const broke = await failure(client().createJob(body('broke'), { idempotencyKey: 'broke' }));
    expect(broke.message).toBe('Insufficient credits');
    const missing = await failure(client().getJob('3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10'));
    expect(missing).toMatchObject({ status: 404, code: 'UPSTREAM_NOT_FOUND', retryable: false });
    expect(missing.endpoint).toBe('GET /v2/jobs/3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10');
  });

  it('409 → IDEMPOTENCY_MISMATCH for a reused key with another body', async () => {
    const api = client();
    const first = await api.createJob(body('original'), { idempotencyKey: 'reused' });
    const replay = await api.createJob(body('original'), { idempotencyKey: 'reused' });
    expect(replay.jobId).toBe(first.jobId);
    const error = await failure(api.createJob(body('changed'), { idempotencyKey: 'reused' }));
    expect(error).toMatchObject({ status: 409, code: 'IDEMPOTENCY_MISMATCH', retryable: false });
  });

  it('429 → RATE_LIMITED with retryAfterMs from Retry-After seconds', async () => {
    sandbox.setFaults({ httpFaults: [{ route: 'job', status: 429, retryAfterS: 7, times: 1 }] });
    const error = await failure(client().getJob('3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10'));
    expect(error).toMatchObject({
      status: 429,
      code: 'RATE_LIMITED',
      retryable: true,
      retryAfterMs: 7000,
    });
  });

  it('parses Retry-After as an HTTP-date too', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('soon', now)).toBeNull();
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    const local = await localServer((_req, res) => {
      res.writeHead(503, { 'retry-after': inTwoMinutes, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Service unavailable' }));
    });
    const error = await failure(client({ baseUrl: local.url }).me());
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.retryAfterMs).toBeGreaterThan(100_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
  });
});
