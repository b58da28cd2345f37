import { expect } from 'vitest';
import type { TypedDocumentString } from '../gql/graphql.ts';
import type { TestApp } from './app.ts';

export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one operation through yoga.fetch, as a client would, and returns the parsed body. */
export async function request<TResult, TVariables>(
  app: Pick<TestApp, 'yoga'>,
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
  options: { key?: string; status?: number } = {},
): Promise<GraphQLResponse<TResult>> {
  const response = await app.yoga.fetch('http://fluxgate.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
    },
    body: JSON.stringify({ query: document.toString(), variables }),
  });
  expect(response.status).toBe(options.status ?? 200);
  return (await response.json()) as GraphQLResponse<TResult>;
}

/** Like request, but fails the test on any GraphQL error and returns data. */
export async function query<TResult, TVariables>(
  app: Pick<TestApp, 'yoga'>,
  document: TypedDocumentString<TResult, TVariables>,
  variables?: TVariables,
  options: { key?: string } = {},
): Promise<TResult> {
  const body = await request(app, document, variables, options);
  expect(body.errors).toBeUndefined();
  return body.data as TResult;
}
