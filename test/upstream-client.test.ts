import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { createApiframeClient, type UpstreamLogger } from '../src/upstream/client.ts';
import { parseRetryAfter, UpstreamRequestError } from '../src/upstream/errors.ts';
import {
  type GenerateRequest,
  renderedSize,
  validateGenerateRequest,
} from '../src/upstream/flux.ts';
import { resultUrls, type UpstreamJob } from '../src/upstream/job.ts';

let sandbox: Sandbox;
const logLines: string[] = [];
const captureLogger: UpstreamLogger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, latencyMs: 150, apiKey: 'afk_client_test_secret' });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.reset();
});

function client(overrides: { apiKey?: string; baseUrl?: string; timeoutMs?: number } = {}) {
  return createApiframeClient({
    baseUrl: overrides.baseUrl ?? sandbox.url,
    apiKey: overrides.apiKey ?? sandbox.apiKey,
    timeoutMs: overrides.timeoutMs,
    logger: captureLogger,
  });
}

const body = (prompt: string, fluxParams: GenerateRequest['fluxParams'] = {}): GenerateRequest => ({
  model: 'flux-1.1-pro',
  prompt,
  fluxParams: {
    aspect_ratio: 'custom',
    width: 256,
    height: 256,
    output_format: 'png',
    ...fluxParams,
  },
});

async function failure(promise: Promise<unknown>): Promise<UpstreamRequestError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamRequestError);
  return error as UpstreamRequestError;
}

async function untilFinal(id: string): Promise<UpstreamJob> {
  const api = client();
  for (let attempt = 0; attempt < 200; attempt++) {
    const job = await api.getJob(id);
    if (job.status === 'COMPLETED' || job.status === 'FAILED') {
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${id} did not finish`);
}

type LocalServer = { url: string; close(): Promise<void>; seen: IncomingMessage[] };
const localServers: LocalServer[] = [];

/** A throwaway HTTP server on 127.0.0.1 for answers the sandbox cannot give. */
async function localServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LocalServer> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local: LocalServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  localServers.push(local);
  return local;
}

afterEach(async () => {
  await Promise.all(localServers.splice(0).map((local) => local.close()));
});

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

describe('transport failures', () => {
  it('a server that never answers → TIMEOUT', async () => {
    const local = await localServer(() => {
      // never answers
    });
    const started = performance.now();
    const error = await failure(client({ baseUrl: local.url, timeoutMs: 100 }).getJob('x'));
    expect(error).toMatchObject({ code: 'TIMEOUT', status: null, retryable: true });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a body that stalls after the headers → TIMEOUT', async () => {
    const local = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
    });
    const error = await failure(client({ baseUrl: local.url, timeoutMs: 150 }).me());
    expect(error.code).toBe('TIMEOUT');
  });

  it('connection refused → NETWORK_ERROR', async () => {
    const local = await localServer(() => undefined);
    await local.close();
    const error = await failure(client({ baseUrl: local.url }).me());
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: null, retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it.each([
    { name: 'not JSON', reply: 'Internal <b>oops</b>' },
    { name: 'wrong shape', reply: JSON.stringify({ id: 'not-a-uuid', status: 'DONE' }) },
  ])('a 200 with $name → BAD_RESPONSE (final)', async ({ reply }) => {
    const local = await localServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-junk' });
      res.end(reply);
    });
    const error = await failure(
      client({ baseUrl: local.url }).getJob('3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10'),
    );
    expect(error).toMatchObject({
      code: 'BAD_RESPONSE',
      status: 200,
      retryable: false,
      requestId: 'req-junk',
    });
  });

  it('never follows a redirect (it would carry the key elsewhere)', async () => {
    const elsewhere = await localServer((_req, res) => res.end('{}'));
    const local = await localServer((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/v2/me` });
      res.end();
    });
    const error = await failure(client({ baseUrl: local.url }).me());
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', status: 307, retryable: false });
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('sends the documented headers and the body exactly as given', async () => {
    let received = '';
    const local = await localServer((req, res) => {
      req.on('data', (chunk: Buffer) => {
        received += chunk.toString();
      });
      req.on('end', () => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jobId: '3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10',
            status: 'QUEUED',
            extra: 1,
          }),
        );
      });
    });
    const sent = body('headers', { seed: 9 });
    const created = await client({
      baseUrl: `${local.url}/`,
      apiKey: 'afk_header_check',
    }).createJob(sent, {
      idempotencyKey: 'gen-headers',
    });
    expect(created).toEqual({ jobId: '3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10', status: 'QUEUED' });
    const request = local.seen[0];
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v2/images/generate');
    expect(request?.headers).toMatchObject({
      'x-api-key': 'afk_header_check',
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': 'gen-headers',
    });
    expect(received).toBe(JSON.stringify(sent));
  });
});

describe('the API key', () => {
  it('never appears in an error or a log line, even when upstream echoes it', async () => {
    const secret = 'afk_never_leak_this_0123456789';
    const echo = await localServer((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      const key = String(req.headers['x-api-key']);
      res.end(JSON.stringify({ error: `Bad key ${key}`, details: { [key]: [`value ${key}`] } }));
    });
    const silent = await localServer(() => undefined);
    const refused = await localServer(() => undefined);
    await refused.close();
    logLines.length = 0;
    const errors = await Promise.all([
      failure(client({ baseUrl: echo.url, apiKey: secret }).me()),
      failure(client({ baseUrl: silent.url, apiKey: secret, timeoutMs: 100 }).me()),
      failure(client({ baseUrl: refused.url, apiKey: secret }).me()),
      failure(client({ apiKey: secret }).createJob(body('leak'), { idempotencyKey: 'leak' })),
    ]);
    expect(errors.map((error) => error.code)).toEqual([
      'INVALID_REQUEST',
      'TIMEOUT',
      'NETWORK_ERROR',
      'UPSTREAM_UNAUTHORIZED',
    ]);
    expect(errors[0]?.message).toBe('Bad key [redacted]');
    for (const error of errors) {
      const serialized = [
        JSON.stringify(error),
        inspect(error, { depth: 10 }),
        String(error),
        error.stack,
      ];
      for (const text of serialized) {
        expect(text).not.toContain(secret);
      }
    }
    expect(logLines.length).toBeGreaterThanOrEqual(4);
    expect(logLines.join('\n')).not.toContain(secret);
  });
});

describe('flux parameter rules', () => {
  const valid = { model: 'flux-1.1-pro', prompt: 'a fox' };

  it('names the offending field of a cross-field rule', () => {
    const result = validateGenerateRequest({
      ...valid,
      fluxParams: { aspect_ratio: '16:9', width: 512 },
    });
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          path: ['fluxParams', 'width'],
          message: 'width and height are only allowed when aspect_ratio is "custom"',
        },
      ],
    });
    const custom = validateGenerateRequest({ ...valid, fluxParams: { aspect_ratio: 'custom' } });
    expect(custom.ok ? [] : custom.issues.map((issue) => issue.path.join('.'))).toEqual([
      'fluxParams.width',
      'fluxParams.height',
    ]);
  });

  it('bounds the seed to signed 32-bit and rejects unknown keys on the key', () => {
    const seeds = [-2_147_483_648, 2_147_483_647, 2_147_483_648, 1.5].map(
      (seed) => validateGenerateRequest({ ...valid, fluxParams: { seed } }).ok,
    );
    expect(seeds).toEqual([true, true, false, false]);
    const unknown = validateGenerateRequest({ ...valid, fluxParams: { safety_tolerance: 2 } });
    expect(unknown.ok ? [] : unknown.issues).toEqual([
      {
        path: ['fluxParams', 'safety_tolerance'],
        message: 'safety_tolerance is not an allowed field',
      },
    ]);
  });

  it.each([
    [undefined, 1024, 1024],
    ['1:1', 1024, 1024],
    ['16:9', 1376, 768],
    ['9:16', 768, 1376],
    ['21:9', 1440, 608],
    ['100:1', 1440, 256],
  ])('renders %s at %i×%i', (ratio, width, height) => {
    expect(renderedSize(ratio ? { aspect_ratio: ratio } : undefined)).toEqual({ width, height });
  });

  it('renders custom sizes as given', () => {
    expect(renderedSize({ aspect_ratio: 'custom', width: 320, height: 1440 })).toEqual({
      width: 320,
      height: 1440,
    });
  });
});
