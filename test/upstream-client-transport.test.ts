import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import {
  body,
  closeLocalServers,
  failure,
  localServer,
  logLines,
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

const { client } = upstreamClients(() => sandbox);

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
