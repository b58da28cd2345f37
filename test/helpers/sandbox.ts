import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';

// Talking to the sandbox upstream over plain HTTP, as apiframe's clients would.

export type Json = Record<string, unknown>;
export type Reply = { status: number; headers: Headers; json: Json };

// Small renders keep the suite fast where the size is not the point.
export const SMALL = { aspect_ratio: 'custom', width: 256, height: 256 };

export function request(prompt: string, fluxParams?: Json): Json {
  return { model: 'flux-1.1-pro', prompt, ...(fluxParams ? { fluxParams } : {}) };
}

export function firstUrl(job: Json): string {
  const result = job.result;
  const url = typeof result === 'string' ? result : (result as { images: string[] }).images[0];
  expect(typeof url).toBe('string');
  return String(url);
}

export async function download(url: string) {
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

/** Calls bound to the file's sandbox, read through `current` (it starts in beforeAll). */
export function sandboxCalls(current: () => Sandbox) {
  async function call(
    method: string,
    path: string,
    options: { body?: unknown; key?: string | null; idempotencyKey?: string } = {},
  ): Promise<Reply> {
    const sandbox = current();
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

  async function renderOf(prompt: string, fluxParams?: Json) {
    const jobId = await submit(prompt, fluxParams);
    const { job } = await waitFor(jobId, 'COMPLETED');
    return download(firstUrl(job));
  }

  return { call, generate, submit, waitFor, renderOf };
}

/** One POST as a webhook receiver saw it: the exact body bytes and the headers. */
export type ReceivedWebhook = {
  path: string;
  raw: Buffer;
  signature: string | null;
  event: string | null;
  contentType: string | null;
};

/**
 * A real HTTP receiver on 127.0.0.1 that records every request and answers `status`
 * (204 by default, like the SDK's example; changeable with `respondWith`).
 */
export async function startWebhookReceiver(initialStatus = 204) {
  const received: ReceivedWebhook[] = [];
  let status = initialStatus;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const one = (name: string) => {
        const value = req.headers[name];
        return (Array.isArray(value) ? value[0] : value) ?? null;
      };
      received.push({
        path: req.url ?? '/',
        raw: Buffer.concat(chunks),
        signature: one('x-webhook-signature'),
        event: one('x-webhook-event'),
        contentType: one('content-type'),
      });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/apiframe`,
    received,
    respondWith(next: number) {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
