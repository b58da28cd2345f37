import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mergeFaults, type SandboxFaults, type SandboxFaultsPatch } from './faults.ts';
import { createJobStore, type SandboxJob } from './jobs.ts';
import { createRenderCache } from './render.ts';
import { type ApiState, createApiRoutes, type FileReply, type Reply } from './routes.ts';
import { createWebhookSender, type WebhookDelivery } from './webhooks.ts';

export type SandboxLogger = {
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
};

export type SandboxOptions = {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  apiKey?: string;
  /** Base of the image URLs in `result` (default: the listening URL). */
  publicUrl?: string;
  latencyMs?: number;
  urlTtlS?: number;
  credits?: number;
  creditCost?: number;
  /** Initial fault switches (env values from main.ts land here). */
  faults?: SandboxFaultsPatch;
  logger?: SandboxLogger;
};

/** One request as the sandbox saw it; `hasApiKey` instead of the key itself. */
export type RecordedRequest = {
  method: string;
  path: string;
  idempotencyKey?: string;
  hasApiKey: boolean;
  body?: unknown;
  status: number;
};

export type Sandbox = {
  url: string;
  apiKey: string;
  close(): Promise<void>;
  /** Merges switches; throws on an invalid value. */
  setFaults(patch: SandboxFaultsPatch): void;
  readonly faults: Readonly<SandboxFaults>;
  /** Back to the options given to createSandbox; forgets jobs and recorded requests. */
  reset(): void;
  readonly requests: RecordedRequest[];
  readonly jobs: ReadonlyMap<string, SandboxJob>;
  /** Every webhook delivery attempt, in the order they settled (also `GET /__sandbox/webhooks`). */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Resolves once no planned webhook event is waiting or in flight. */
  webhooksIdle(): Promise<void>;
};

export const DEFAULT_SANDBOX_API_KEY = 'afk_sandbox_local';
const MAX_BODY_BYTES = 1024 * 1024;

/** `body` is undefined for an empty body; `invalidJson` is set when it did not parse. */
type Incoming = { method: string; path: string; body: unknown; invalidJson: boolean };

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<{ text: string } | { tooLarge: true }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      return { tooLarge: true };
    }
    chunks.push(chunk as Buffer);
  }
  return { text: Buffer.concat(chunks).toString('utf8') };
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const apiKey = options.apiKey ?? DEFAULT_SANDBOX_API_KEY;
  const initialFaults = mergeFaults(
    {
      latencyMs: options.latencyMs ?? 3000,
      resultShape: 'images',
      urlTtlS: options.urlTtlS ?? 3600,
      failRate: 0,
      neverFinishRate: 0,
      cancelRate: 0,
      httpFaults: [],
      credits: options.credits ?? 1_000_000,
      creditCost: options.creditCost ?? 4,
      dropWebhookRate: 0,
      duplicateWebhookRate: 0,
      webhookDelayMs: 0,
    },
    options.faults ?? {},
  );
  const state: ApiState = { faults: mergeFaults(initialFaults, {}), baseUrl: '' };
  const store = createJobStore();
  const logger = options.logger;
  const webhooks = createWebhookSender({ apiKey, state, logger });
  const handleApi = createApiRoutes({
    apiKey,
    store,
    renders: createRenderCache(),
    state,
    onSubmit: webhooks.schedule,
  });
  const requests: RecordedRequest[] = [];

  function admin({ method, path, body, invalidJson }: Incoming): Reply {
    if (invalidJson) {
      return { status: 400, body: { error: 'Request body must be valid JSON' } };
    }
    if (path === '/__sandbox/faults' && method === 'GET') {
      return { status: 200, body: state.faults };
    }
    if (path === '/__sandbox/faults' && method === 'POST') {
      try {
        state.faults = mergeFaults(state.faults, body ?? {});
      } catch (error) {
        return { status: 400, body: { error: (error as Error).message } };
      }
      return { status: 200, body: state.faults };
    }
    if (path === '/__sandbox/reset' && method === 'POST') {
      reset();
      return { status: 200, body: state.faults };
    }
    if (path === '/__sandbox/requests' && method === 'GET') {
      return { status: 200, body: requests };
    }
    if (path === '/__sandbox/webhooks' && method === 'GET') {
      return { status: 200, body: webhooks.deliveries };
    }
    return { status: 404, body: { error: 'Not found' } };
  }

  function reset(): void {
    state.faults = mergeFaults(initialFaults, {});
    webhooks.clear(true);
    store.clear();
    requests.length = 0;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    const raw = method === 'POST' ? await readBody(req) : { text: '' };
    let body: unknown;
    let invalidJson = false;
    if ('text' in raw && raw.text.length > 0) {
      try {
        body = JSON.parse(raw.text);
      } catch {
        invalidJson = true;
      }
    }
    const isAdmin = url.pathname.startsWith('/__sandbox/');
    const apiKeyHeader = header(req, 'x-api-key');
    const idempotencyKey = header(req, 'idempotency-key');
    let reply: Reply | FileReply;
    if ('tooLarge' in raw) {
      reply = { status: 413, body: { error: 'Request body is too large' } };
    } else if (isAdmin) {
      reply = admin({ method, path: url.pathname, body, invalidJson });
    } else {
      reply = await handleApi({
        method,
        path: url.pathname,
        url,
        body,
        invalidJson,
        apiKey: apiKeyHeader,
        idempotencyKey,
      });
    }

    if ('bytes' in reply) {
      res.writeHead(200, { 'content-type': reply.type, 'content-length': reply.bytes.length });
      res.end(method === 'HEAD' ? undefined : reply.bytes);
    } else {
      const json = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        ...reply.headers,
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(json),
      });
      res.end(method === 'HEAD' ? undefined : json);
    }
    const status = res.statusCode;
    if (!isAdmin) {
      requests.push({
        method,
        path: `${url.pathname}${url.search}`,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        hasApiKey: (apiKeyHeader ?? '') !== '',
        ...(body === undefined ? {} : { body }),
        status,
      });
    }
    logger?.debug({ method, path: url.pathname, status, requestId }, 'sandbox request');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger?.warn({ err: error }, 'sandbox request failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      }
      res.end(JSON.stringify({ error: 'Internal server error' }));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  state.baseUrl = (options.publicUrl ?? url).replace(/\/+$/, '');
  logger?.info({ url }, 'apiframe sandbox listening');

  return {
    url,
    apiKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        webhooks.clear(false);
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
    setFaults(patch) {
      state.faults = mergeFaults(state.faults, patch);
    },
    get faults() {
      return state.faults;
    },
    reset,
    requests,
    jobs: store.jobs,
    webhookDeliveries: webhooks.deliveries,
    webhooksIdle: webhooks.idle,
  };
}
