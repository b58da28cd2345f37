import {
  type AppError,
  IdempotencyConflictError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  UpstreamError,
  ValidationError,
} from '../resolvers/errors.ts';
import { builder } from './builder.ts';
import { GenerationRef } from './generation.ts';

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'Every expected failure is a typed result with a stable code, not a GraphQL error.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
    code: t.exposeString('code', { description: 'A stable machine-readable code.' }),
  }),
});

const FieldErrorRef = builder
  .objectRef<{ path: string[]; message: string }>('FieldError')
  .implement({
    description: 'One invalid input field.',
    fields: (t) => ({
      path: t.exposeStringList('path', {
        description: 'Input field path, e.g. ["input", "width"].',
      }),
      message: t.exposeString('message', { description: 'Which rule the value broke.' }),
    }),
  });

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input broke the model’s rules; nothing was recorded or sent upstream.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    fieldErrors: t.field({
      type: [FieldErrorRef],
      description: 'Each invalid field with the rule it broke.',
      resolve: (error) => error.fieldErrors,
    }),
  }),
});

builder.objectType(QuotaExceededError, {
  name: 'QuotaExceededError',
  description: 'The account’s daily generation limit is used up.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof QuotaExceededError,
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Generations allowed per UTC day.' }),
    resetsAt: t.field({
      type: 'DateTime',
      description: 'When the count starts again (next UTC midnight).',
      resolve: (error) => error.resetsAt,
    }),
  }),
});

builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description: 'Too many requests; try again later.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof RateLimitedError,
  fields: (t) => ({
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', {
      description: 'Seconds to wait before retrying.',
    }),
  }),
});

builder.objectType(IdempotencyConflictError, {
  name: 'IdempotencyConflictError',
  description: 'The idempotencyKey was already used with a different input.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof IdempotencyConflictError,
  fields: (t) => ({
    generation: t.field({
      type: GenerationRef,
      nullable: true,
      description: 'The generation that already holds this key.',
      resolve: (error) => error.generation,
    }),
  }),
});

builder.objectType(UpstreamError, {
  name: 'UpstreamError',
  description: 'The upstream image API refused or failed the request.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof UpstreamError,
  fields: (t) => ({
    retryable: t.exposeBoolean('retryable', {
      description: 'Whether the same request may succeed later.',
    }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'No such object among the caller’s own.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
});
