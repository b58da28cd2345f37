import type { Generation } from '../generated/prisma/client.ts';

// Expected outcomes of mutations. The schema exposes each class as a GraphQL type implementing
// the `Error` interface, and the errors plugin turns a thrown instance into a typed result.

export abstract class AppError extends Error {
  abstract readonly code: string;
}

export interface FieldError {
  path: string[];
  message: string;
}

export class ValidationError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  readonly fieldErrors: FieldError[];
  constructor(fieldErrors: FieldError[]) {
    const first = fieldErrors[0];
    super(
      fieldErrors.length === 1 && first
        ? `Invalid ${first.path.at(-1)}: ${first.message}`
        : `${fieldErrors.length} fields are invalid`,
    );
    this.fieldErrors = fieldErrors;
  }
}

export class QuotaExceededError extends AppError {
  readonly code = 'QUOTA_EXCEEDED';
  readonly limit: number;
  readonly resetsAt: Date;
  constructor(limit: number, resetsAt: Date) {
    super(
      `The daily limit of ${limit} generations is used up; it resets at ${resetsAt.toISOString()}`,
    );
    this.limit = limit;
    this.resetsAt = resetsAt;
  }
}

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(`Too many requests; retry after ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class IdempotencyConflictError extends AppError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  readonly generation: Generation;
  constructor(generation: Generation) {
    super('This idempotencyKey was already used with different input');
    this.generation = generation;
  }
}

export class UpstreamError extends AppError {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor(what = 'Generation') {
    super(`${what} not found`);
  }
}
