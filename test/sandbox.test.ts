import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox, sandboxOptionsFromEnv } from '../src/sandbox/index.ts';

type Json = Record<string, unknown>;
type Reply = { status: number; headers: Headers; json: Json };

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, latencyMs: 150 });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.reset();
});

async function call(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; idempotencyKey?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = options.key === undefined ? sandbox.apiKey : options.key;
  if (key !== null) {
    headers['x-api-key'] = key;
  }
  if (options.idempotencyKey !== undefined) {
    headers['idempotency-key'] = options.idempotencyKey;
  }
  const response = await fetch(`${sandbox.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Json,
  };
}

function generate(body: unknown, idempotencyKey?: string, key?: string | null): Promise<Reply> {
  return call('POST', '/v2/images/generate', { body, idempotencyKey, key });
}

// Small renders keep the suite fast where the size is not the point.
const SMALL = { aspect_ratio: 'custom', width: 256, height: 256 };

function request(prompt: string, fluxParams?: Json): Json {
  return { model: 'flux-1.1-pro', prompt, ...(fluxParams ? { fluxParams } : {}) };
}

async function submit(prompt: string, fluxParams?: Json): Promise<string> {
  const reply = await generate(request(prompt, fluxParams));
  expect(reply.status).toBe(202);
  return String(reply.json.jobId);
}

/** Polls until the job reaches `status`, returning it and every status/progress seen. */
async function waitFor(jobId: string, status: string, budgetMs = 5000) {
  const seen: { status: string; progress: unknown }[] = [];
  const deadline = Date.now() + budgetMs;
  while (Date.now() < deadline) {
    const reply = await call('GET', `/v2/jobs/${jobId}`);
    expect(reply.status).toBe(200);
    seen.push({ status: String(reply.json.status), progress: reply.json.progress });
    if (reply.json.status === status) {
      return { job: reply.json, seen };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${jobId} never reached ${status}; saw ${JSON.stringify(seen.at(-1))}`);
}

function firstUrl(job: Json): string {
  const result = job.result;
  const url = typeof result === 'string' ? result : (result as { images: string[] }).images[0];
  expect(typeof url).toBe('string');
  return String(url);
}

async function download(url: string) {
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    length: Number(response.headers.get('content-length')),
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

async function renderOf(prompt: string, fluxParams?: Json) {
  const jobId = await submit(prompt, fluxParams);
  const { job } = await waitFor(jobId, 'COMPLETED');
  return download(firstUrl(job));
}

describe('rendered images', () => {
  it('are deterministic for prompt+seed and differ for another seed', async () => {
    const params = { ...SMALL, seed: 42, output_format: 'png' };
    const first = await renderOf('a lighthouse at dusk', params);
    const otherSeed = await renderOf('a lighthouse at dusk', { ...params, seed: 43 });
    const otherPrompt = await renderOf('a forest at noon', params);
    // A second sandbox has its own render cache, so equal bytes mean a deterministic render.
    const fresh = await createSandbox({ port: 0, latencyMs: 0 });
    try {
      const accepted = await fetch(`${fresh.url}/v2/images/generate`, {
        method: 'POST',
        headers: { 'x-api-key': fresh.apiKey },
        body: JSON.stringify(request('a lighthouse at dusk', params)),
      });
      const { jobId } = (await accepted.json()) as { jobId: string };
      const again = await download(`${fresh.url}/files/${jobId}/0.png`);
      expect(first.status).toBe(200);
      expect(again.sha256).toBe(first.sha256);
    } finally {
      await fresh.close();
    }
    expect(otherSeed.sha256).not.toBe(first.sha256);
    expect(otherPrompt.sha256).not.toBe(first.sha256);
  });

  it('serves identical bytes on repeated downloads of one URL', async () => {
    const jobId = await submit('repeat me', { ...SMALL, output_format: 'webp', seed: 1 });
    const url = firstUrl((await waitFor(jobId, 'COMPLETED')).job);
    const [a, b] = await Promise.all([download(url), download(url)]);
    expect(a.sha256).toBe(b.sha256);
    expect(a.bytes.length).toBeGreaterThan(0);
  });

  const CONTENT_TYPES: Record<string, string> = {
    jpeg: 'image/jpeg',
    png: 'image/png',
    webp: 'image/webp',
  };
  it.each([
    [{ aspect_ratio: 'custom', width: 512, height: 768, output_format: 'jpg' }, 512, 768, 'jpeg'],
    [{ aspect_ratio: 'custom', width: 1440, height: 256, output_format: 'png' }, 1440, 256, 'png'],
    [{ aspect_ratio: '16:9', output_format: 'webp' }, 1376, 768, 'webp'],
    [{ aspect_ratio: '2:3', output_format: 'jpg' }, 832, 1248, 'jpeg'],
    [undefined, 1024, 1024, 'webp'],
  ])('match the requested size and format: %o', async (params, width, height, format) => {
    const file = await renderOf('size check', params);
    expect(file.status).toBe(200);
    expect(file.type).toBe(CONTENT_TYPES[format]);
    expect(file.length).toBe(file.bytes.length);
    const meta = await sharp(file.bytes).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([width, height, format]);
  });

  it.each(['jpg', 'webp'])('honours output_quality for %s', async (output_format) => {
    const params = { ...SMALL, seed: 5, output_format };
    const low = await renderOf('quality', { ...params, output_quality: 5 });
    const high = await renderOf('quality', { ...params, output_quality: 95 });
    expect(low.bytes.length).toBeLessThan(high.bytes.length);
  });

  it('picks and keeps a seed when none is given', async () => {
    const jobId = await submit('no seed given', { ...SMALL, output_format: 'png' });
    const picked = sandbox.jobs.get(jobId)?.seed;
    expect(Number.isInteger(picked)).toBe(true);
    const implicit = await download(firstUrl((await waitFor(jobId, 'COMPLETED')).job));
    const explicit = await renderOf('no seed given', {
      ...SMALL,
      output_format: 'png',
      seed: picked,
    });
    expect(explicit.sha256).toBe(implicit.sha256);
  });
});

describe('job timeline', () => {
  it('goes QUEUED → PROCESSING → COMPLETED with rising progress, images shape', async () => {
    sandbox.setFaults({ latencyMs: 800 });
    const accepted = await generate(request('timeline'));
    expect(accepted.json.status).toBe('QUEUED');
    const first = await call('GET', `/v2/jobs/${accepted.json.jobId}`);
    expect(first.json).toMatchObject({ status: 'QUEUED', result: null, completedAt: null });
    const { job, seen } = await waitFor(String(accepted.json.jobId), 'COMPLETED');
    const order = ['QUEUED', 'PROCESSING', 'COMPLETED'];
    const ranks = seen.map((entry) => order.indexOf(entry.status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks).toContain(1);
    const progress = seen.filter((s) => s.status === 'PROCESSING').map((s) => Number(s.progress));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.every((p) => p >= 0 && p <= 99)).toBe(true);
    expect(job).toMatchObject({ progress: 100, creditCost: 4, error: null, expired: false });
    expect((job.result as { images: string[] }).images).toHaveLength(1);
    expect(Date.parse(String(job.completedAt))).toBeGreaterThanOrEqual(
      Date.parse(String(job.createdAt)),
    );
  });

  it('returns one URL string when resultShape is "string"', async () => {
    sandbox.setFaults({ resultShape: 'string' });
    const jobId = await submit('string shape', { ...SMALL, output_format: 'png' });
    const { job } = await waitFor(jobId, 'COMPLETED');
    expect(typeof job.result).toBe('string');
    expect(String(job.result)).toMatch(/\/files\/[0-9a-f-]{36}\/0\.png$/);
    expect((await download(String(job.result))).status).toBe(200);
  });

  it('fails a job under failRate 1 with a refund', async () => {
    sandbox.setFaults({ failRate: 1 });
    const { job } = await waitFor(await submit('doomed'), 'FAILED');
    expect(job).toMatchObject({
      error: 'Provider returned an error: sandbox failure',
      creditCost: 0,
      result: null,
    });
    expect(sandbox.faults.credits).toBe(1_000_000);
  });

  it('keeps a job PROCESSING forever under neverFinishRate 1', async () => {
    sandbox.setFaults({ neverFinishRate: 1, latencyMs: 40 });
    const jobId = await submit('stuck');
    await new Promise((resolve) => setTimeout(resolve, 120));
    const reply = await call('GET', `/v2/jobs/${jobId}`);
    expect(reply.json).toMatchObject({ status: 'PROCESSING', completedAt: null });
  });

  it('expires image URLs after urlTtlS: 404 and expired=true', async () => {
    const { job } = await waitFor(await submit('short lived', SMALL), 'COMPLETED');
    const url = firstUrl(job);
    expect((await download(url)).status).toBe(200);
    sandbox.setFaults({ urlTtlS: 0 });
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: 'File expired' });
    expect((await call('GET', `/v2/jobs/${job.id}`)).json.expired).toBe(true);
  });
});

describe('idempotency', () => {
  it('replays the same job for the same key and body, in any key order', async () => {
    const first = await generate(request('once', { seed: 1, output_format: 'png' }), 'gen-1');
    const reordered = { fluxParams: { output_format: 'png', seed: 1 }, prompt: 'once' };
    const replay = await generate({ ...reordered, model: 'flux-1.1-pro' }, 'gen-1');
    expect(first.status).toBe(202);
    expect(replay.status).toBe(200);
    expect(replay.json.jobId).toBe(first.json.jobId);
    expect(sandbox.jobs.size).toBe(1);
    expect(sandbox.faults.credits).toBe(1_000_000 - 4);
  });

  it('reports the current status on a replay', async () => {
    const first = await generate(request('replay status'), 'gen-status');
    await waitFor(String(first.json.jobId), 'COMPLETED');
    const replay = await generate(request('replay status'), 'gen-status');
    expect(replay.json).toEqual({ jobId: first.json.jobId, status: 'COMPLETED' });
  });

  it('rejects the same key with another body with 409', async () => {
    await generate(request('first body'), 'gen-2');
    const conflict = await generate(request('second body'), 'gen-2');
    expect(conflict.status).toBe(409);
    expect(typeof conflict.json.error).toBe('string');
    expect(sandbox.jobs.size).toBe(1);
  });

  it('creates one job for 10 concurrent duplicates', async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => generate(request('burst'), 'gen-burst')),
    );
    expect(new Set(replies.map((r) => r.json.jobId)).size).toBe(1);
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    expect(sandbox.jobs.size).toBe(1);
  });
});

describe('request checks', () => {
  it('answers 400 with field details and creates no job', async () => {
    const reply = await generate({
      model: 'flux-1.1-pro',
      prompt: 'bad',
      fluxParams: { width: 500, height: 512, safety_tolerance: 2 },
    });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('Validation failed');
    const details = reply.json.details as Record<string, string[]>;
    expect(details['fluxParams.width']).toEqual(['width must be a multiple of 32']);
    expect(details['fluxParams.height']?.[0]).toMatch(/only allowed when aspect_ratio is "custom"/);
    expect(details['fluxParams.safety_tolerance']).toBeDefined();
    expect(sandbox.jobs.size).toBe(0);
    const notJson = await fetch(`${sandbox.url}/v2/images/generate`, {
      method: 'POST',
      headers: { 'x-api-key': sandbox.apiKey },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
  });

  it('answers 401 for a missing or wrong key, with an x-request-id', async () => {
    const missing = await generate(request('x'), undefined, null);
    const wrong = await generate(request('x'), undefined, 'afk_wrong');
    expect([missing.status, missing.json.error]).toEqual([401, 'API key is required']);
    expect([wrong.status, wrong.json.error]).toEqual([401, 'Invalid API key']);
    expect(wrong.headers.get('x-request-id')).toMatch(/\S+/);
    expect(sandbox.jobs.size).toBe(0);
  });

  it('answers 402 when credits run short, and spends them per job', async () => {
    sandbox.setFaults({ credits: 5 });
    expect((await generate(request('paid'))).status).toBe(202);
    const broke = await generate(request('unpaid'));
    expect(broke.status).toBe(402);
    expect(broke.json).toEqual({
      error: 'Insufficient credits',
      creditsRequired: 4,
      creditsAvailable: 1,
    });
    expect(((await call('GET', '/v2/me')).json.team as Json).credits).toBe(1);
  });

  it('answers 400 for a non-UUID job id and 404 for an unknown one', async () => {
    expect((await call('GET', '/v2/jobs/not-a-uuid')).status).toBe(400);
    const unknown = await call('GET', '/v2/jobs/3f1c1a8e-8c1e-4a57-9d0e-2f1c6b7e9a10');
    expect(unknown.status).toBe(404);
  });

  it('records requests without the key itself', async () => {
    await generate(request('recorded'), 'rec-1');
    await generate(request('recorded'), undefined, null);
    expect(sandbox.requests.map((r) => [r.method, r.path, r.status, r.hasApiKey])).toEqual([
      ['POST', '/v2/images/generate', 202, true],
      ['POST', '/v2/images/generate', 401, false],
    ]);
    expect(sandbox.requests[0]?.idempotencyKey).toBe('rec-1');
    expect(sandbox.requests[0]?.body).toEqual(request('recorded'));
    expect(JSON.stringify(sandbox.requests)).not.toContain(sandbox.apiKey);
  });
});

describe('http faults', () => {
  it('answers 429 with Retry-After before any processing, for `times` requests', async () => {
    sandbox.setFaults({
      httpFaults: [{ route: 'generate', status: 429, times: 2, retryAfterS: 7 }],
    });
    const first = await generate(request('limited'));
    const second = await generate(request('limited'));
    const third = await generate(request('limited'));
    expect([first.status, second.status, third.status]).toEqual([429, 429, 202]);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(typeof first.json.error).toBe('string');
    expect(sandbox.jobs.size).toBe(1);
    expect(sandbox.faults.httpFaults).toEqual([]);
  });

  it('answers 503 on the job route only, and `any` hits every route', async () => {
    const jobId = await submit('faulted reads');
    sandbox.setFaults({ httpFaults: [{ route: 'job', status: 503, times: 1 }] });
    expect((await call('GET', `/v2/jobs/${jobId}`)).status).toBe(503);
    expect((await call('GET', `/v2/jobs/${jobId}`)).status).toBe(200);
    sandbox.setFaults({ httpFaults: [{ route: 'any', status: 500 }] });
    expect((await call('GET', '/v2/me')).status).toBe(500);
    expect((await generate(request('x'))).status).toBe(500);
    sandbox.setFaults({ httpFaults: [{ route: 'any', status: 500, rate: 0 }] });
    expect((await call('GET', '/v2/me')).status).toBe(200);
  });

  it('takes fault switches over HTTP and rejects bad ones', async () => {
    const set = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ httpFaults: [{ route: 'me', status: 403, times: 1 }], latencyMs: 10 }),
    });
    expect(set.status).toBe(200);
    expect(sandbox.faults.latencyMs).toBe(10);
    expect((await call('GET', '/v2/me')).status).toBe(403);
    const bad = await fetch(`${sandbox.url}/__sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ failRate: 2 }),
    });
    expect(bad.status).toBe(400);
    await fetch(`${sandbox.url}/__sandbox/reset`, { method: 'POST' });
    expect(sandbox.faults.latencyMs).toBe(150);
    const recorded = (await (await fetch(`${sandbox.url}/__sandbox/requests`)).json()) as unknown[];
    expect(recorded).toEqual([]);
  });
});

describe('job list', () => {
  it('pages newest first with a cursor and filters by status', async () => {
    sandbox.setFaults({ latencyMs: 60_000 });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(await submit(`page ${index}`));
    }
    const pages: Json[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v2/jobs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', query);
      expect(page.status).toBe(200);
      pages.push(page.json);
      cursor = page.json.nextCursor as string | null;
    } while (cursor !== null);
    expect(pages.map((page) => (page.jobs as Json[]).length)).toEqual([2, 2, 1]);
    expect(pages.map((page) => page.hasMore)).toEqual([true, true, false]);
    const listed = pages.flatMap((page) => (page.jobs as Json[]).map((job) => String(job.id)));
    const expected = [...sandbox.jobs.values()]
      .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1))
      .map((job) => job.id);
    expect(listed).toEqual(expected);
    expect(new Set(listed)).toEqual(new Set(ids));

    const queued = await call('GET', '/v2/jobs?status=QUEUED&limit=100');
    expect((queued.json.jobs as Json[]).map((job) => job.status)).toEqual(Array(5).fill('QUEUED'));
    const completed = await call('GET', '/v2/jobs?status=COMPLETED');
    expect(completed.json).toEqual({ jobs: [], nextCursor: null, hasMore: false });
  });

  it('rejects a bad limit or cursor with 400', async () => {
    expect((await call('GET', '/v2/jobs?limit=0')).status).toBe(400);
    expect((await call('GET', '/v2/jobs?limit=101')).status).toBe(400);
    expect((await call('GET', '/v2/jobs?cursor=garbage')).status).toBe(400);
  });
});

describe('sandboxOptionsFromEnv', () => {
  it('reads the SANDBOX_* switches and names a bad variable', () => {
    const env = { SANDBOX_PORT: '4011', SANDBOX_LATENCY_MS: '500', SANDBOX_URL_TTL_S: '60' };
    const options = sandboxOptionsFromEnv({
      ...env,
      ...{
        SANDBOX_RESULT_SHAPE: 'string',
        SANDBOX_FAIL_RATE: '0.25',
        SANDBOX_HOST: '',
        OTHER: 'x',
      },
    });
    const faults = { resultShape: 'string', failRate: 0.25 };
    expect(options).toEqual({ port: 4011, latencyMs: 500, urlTtlS: 60, faults });
    expect(() => sandboxOptionsFromEnv({ SANDBOX_FAIL_RATE: '2' })).toThrow(/SANDBOX_FAIL_RATE/);
    expect(() => sandboxOptionsFromEnv({ SANDBOX_RESULT_SHAPE: 'grid' })).toThrow(
      /SANDBOX_RESULT_SHAPE/,
    );
  });
});
