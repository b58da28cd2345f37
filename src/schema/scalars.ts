import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError('DateTime must be an ISO-8601 string, e.g. 2026-11-26T10:00:00.000Z');
  }
  return date;
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time in UTC, e.g. 2026-11-26T10:00:00.000Z.',
  serialize: (value) =>
    value instanceof Date ? value.toISOString() : new Date(value).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string');
    }
    return parseDateTime(ast.value);
  },
});

builder.queryType({ description: 'Everything a caller can read: only ever their own data.' });
builder.mutationType({ description: 'Everything a caller can change.' });
builder.subscriptionType({ description: 'Live updates over Server-Sent Events.' });
