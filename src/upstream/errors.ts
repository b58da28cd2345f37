/**
 * apiframe has no machine-readable error codes (contract §4), so the client derives one
 * from the HTTP status. `retryable` tells the job runner whether a later attempt can help.
 */
export type UpstreamErrorCode =
  | 'INVALID_REQUEST'
  | 'UPSTREAM_UNAUTHORIZED'
  | 'INSUFFICIENT_CREDITS'
  | 'UPSTREAM_FORBIDDEN'
  | 'UPSTREAM_NOT_FOUND'
  | 'IDEMPOTENCY_MISMATCH'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_UNAVAILABLE'
  | 'TIMEOUT'
  | 'NETWORK_ERROR'
  | 'BAD_RESPONSE';

export type UpstreamRequestErrorInit = {
  code: UpstreamErrorCode;
  message: string;
  status?: number | null;
  retryable: boolean;
  retryAfterMs?: number | null;
  details?: Record<string, string[]>;
  requestId?: string;
  endpoint: string;
  cause?: unknown;
};

export class UpstreamRequestError extends Error {
  override readonly name = 'UpstreamRequestError';
  readonly code: UpstreamErrorCode;
  /** HTTP status, or null when no response arrived (time-out, network). */
  readonly status: number | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  /** Field errors from a 400 body, keyed by JSON path (e.g. "fluxParams.width"). */
  readonly details?: Record<string, string[]>;
  /** Upstream's x-request-id, for correlating with apiframe support. */
  readonly requestId?: string;
  /** e.g. "POST /v2/images/generate" (never the full URL with a query, never headers). */
  readonly endpoint: string;

  constructor(init: UpstreamRequestErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status ?? null;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs ?? null;
    if (init.details !== undefined) {
      this.details = init.details;
    }
    if (init.requestId !== undefined) {
      this.requestId = init.requestId;
    }
    this.endpoint = init.endpoint;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      status: this.status,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      details: this.details,
      requestId: this.requestId,
      endpoint: this.endpoint,
    };
  }
}

export function isUpstreamRequestError(error: unknown): error is UpstreamRequestError {
  return error instanceof UpstreamRequestError;
}

/** The code and retry class for an HTTP error status. */
export function classifyStatus(status: number): { code: UpstreamErrorCode; retryable: boolean } {
  switch (status) {
    case 400:
      return { code: 'INVALID_REQUEST', retryable: false };
    case 401:
      return { code: 'UPSTREAM_UNAUTHORIZED', retryable: false };
    case 402:
      return { code: 'INSUFFICIENT_CREDITS', retryable: false };
    case 403:
      return { code: 'UPSTREAM_FORBIDDEN', retryable: false };
    case 404:
      return { code: 'UPSTREAM_NOT_FOUND', retryable: false };
    case 409:
      return { code: 'IDEMPOTENCY_MISMATCH', retryable: false };
    case 429:
      return { code: 'RATE_LIMITED', retryable: true };
    case 503:
      return { code: 'UPSTREAM_UNAVAILABLE', retryable: true };
    case 501:
      // "Not Implemented" will not change on a retry (the SDK skips it too).
      return { code: 'UPSTREAM_ERROR', retryable: false };
    default:
      if (status >= 500) {
        return { code: 'UPSTREAM_ERROR', retryable: true };
      }
      // Undocumented 4xx: only a request time-out or "too early" can succeed later.
      return { code: 'UPSTREAM_ERROR', retryable: status === 408 || status === 425 };
  }
}

/** `Retry-After` as delta-seconds or an HTTP-date, in ms from `now` (never negative). */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (header === null) {
    return null;
  }
  const value = header.trim();
  if (/^\d+(?:\.\d+)?$/.test(value)) {
    return Math.round(Number(value) * 1000);
  }
  const date = Date.parse(value);
  if (Number.isNaN(date)) {
    return null;
  }
  return Math.max(0, date - now);
}
