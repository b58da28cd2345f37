import type { z } from 'zod';
import {
  classifyStatus,
  parseRetryAfter,
  UpstreamRequestError,
  type UpstreamRequestErrorInit,
} from './errors.ts';
import type { GenerateRequest } from './flux.ts';
import {
  accountSchema,
  type CreateJobResponse,
  createJobResponseSchema,
  errorBodySchema,
  type ListJobsResponse,
  listJobsResponseSchema,
  type UpstreamAccount,
  type UpstreamJob,
  type UpstreamJobStatus,
  upstreamJobSchema,
} from './job.ts';

/** The subset of a pino logger the client uses. */
export type UpstreamLogger = {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
};

export type ApiframeClientOptions = {
  baseUrl: string;
  apiKey: string;
  /** Per call, covering the response body too. */
  timeoutMs?: number;
  logger?: UpstreamLogger;
};

export type ListJobsQuery = {
  status?: UpstreamJobStatus;
  model?: string;
  limit?: number;
  cursor?: string;
};

export type ApiframeClient = {
  createJob(body: GenerateRequest, opts: { idempotencyKey: string }): Promise<CreateJobResponse>;
  getJob(id: string): Promise<UpstreamJob>;
  listJobs(query?: ListJobsQuery): Promise<ListJobsResponse>;
  me(): Promise<UpstreamAccount>;
};

type RequestSpec<T> = {
  method: 'GET' | 'POST';
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  headers?: Record<string, string>;
  schema: z.ZodType<T>;
};

const MAX_ERROR_TEXT = 500;

/**
 * apiframe's HTTP API as typed calls. Every response is validated; every failure is an
 * UpstreamRequestError with a code and a retry class. No retries here: the job runner
 * schedules them durably.
 */
export function createApiframeClient(options: ApiframeClientOptions): ApiframeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { apiKey, logger } = options;

  // Upstream may echo what it was sent; the key must not travel on in a message.
  const redact = (text: string): string =>
    apiKey.length > 0 ? text.split(apiKey).join('[redacted]') : text;
  const redactDetails = (details: Record<string, string[]>): Record<string, string[]> =>
    Object.fromEntries(
      Object.entries(details).map(([path, messages]) => [redact(path), messages.map(redact)]),
    );

  async function call<T>(spec: RequestSpec<T>): Promise<T> {
    const endpoint = `${spec.method} ${spec.path}`;
    const search = spec.query?.toString();
    const url = `${baseUrl}${spec.path}${search ? `?${search}` : ''}`;
    const started = performance.now();
    const fail = (init: Omit<UpstreamRequestErrorInit, 'endpoint'>) => {
      const error = new UpstreamRequestError({
        ...init,
        message: redact(init.message),
        details: init.details && redactDetails(init.details),
        endpoint,
      });
      logger?.warn(
        {
          endpoint,
          status: error.status,
          code: error.code,
          retryable: error.retryable,
          requestId: error.requestId,
          durationMs: Math.round(performance.now() - started),
        },
        `apiframe ${endpoint} failed: ${error.message}`,
      );
      return error;
    };

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: spec.method,
        headers: {
          'X-API-Key': apiKey,
          Accept: 'application/json',
          ...(spec.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...spec.headers,
        },
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        // A redirect could carry X-API-Key to another host: never follow one.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if (isTimeout(error)) {
        throw fail({
          code: 'TIMEOUT',
          message: `apiframe did not answer within ${timeoutMs} ms`,
          retryable: true,
        });
      }
      throw fail({
        code: 'NETWORK_ERROR',
        message: `apiframe could not be reached: ${describeNetworkError(error)}`,
        retryable: true,
        cause: error,
      });
    }

    const status = response.status;
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const json = parseJson(text);

    if (status >= 300 && status < 400) {
      throw fail({
        code: 'BAD_RESPONSE',
        status,
        message: `apiframe answered with an unexpected redirect (${status})`,
        retryable: false,
        requestId,
      });
    }
    if (status >= 400) {
      const body = errorBodySchema.safeParse(json.ok ? json.value : undefined);
      const upstreamText = body.success ? body.data.error : undefined;
      const { code, retryable } = classifyStatus(status);
      throw fail({
        code,
        status,
        message: upstreamText ?? `apiframe answered ${status} ${truncate(text)}`.trim(),
        retryable,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        details: status === 400 && body.success ? body.data.details : undefined,
        requestId,
      });
    }
    if (!json.ok) {
      throw fail({
        code: 'BAD_RESPONSE',
        status,
        message: `apiframe answered ${status} with a body that is not JSON: ${truncate(text)}`,
        retryable: false,
        requestId,
      });
    }
    const parsed = spec.schema.safeParse(json.value);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .slice(0, 5)
        .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
        .join('; ');
      throw fail({
        code: 'BAD_RESPONSE',
        status,
        message: `apiframe answered ${status} with an unexpected body: ${problems}`,
        retryable: false,
        requestId,
      });
    }
    logger?.debug(
      { endpoint, status, requestId, durationMs: Math.round(performance.now() - started) },
      `apiframe ${endpoint} ${status}`,
    );
    return parsed.data;
  }

  return {
    async createJob(body, { idempotencyKey }) {
      const accepted = await call({
        method: 'POST',
        path: '/v2/images/generate',
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
        schema: createJobResponseSchema,
      });
      return { jobId: accepted.jobId, status: accepted.status };
    },
    getJob(id) {
      return call({
        method: 'GET',
        path: `/v2/jobs/${encodeURIComponent(id)}`,
        schema: upstreamJobSchema,
      });
    },
    async listJobs(query = {}) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined) {
          params.set(key, String(value));
        }
      }
      const page = await call({
        method: 'GET',
        path: '/v2/jobs',
        query: params,
        schema: listJobsResponseSchema,
      });
      return { jobs: page.jobs, nextCursor: page.nextCursor, hasMore: page.hasMore };
    },
    me() {
      return call({ method: 'GET', path: '/v2/me', schema: accountSchema });
    },
  };
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const inner = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  const code = (inner as { code?: unknown } | undefined)?.code;
  if (inner === undefined) {
    return String(error);
  }
  return typeof code === 'string' ? `${code} (${inner.message})` : inner.message;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}
