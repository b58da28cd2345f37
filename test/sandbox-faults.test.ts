import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox, sandboxOptionsFromEnv } from '../src/sandbox/index.ts';
import { type Json, request, sandboxCalls } from './helpers/sandbox.ts';

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

const { call, generate, submit } = sandboxCalls(() => sandbox);

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
