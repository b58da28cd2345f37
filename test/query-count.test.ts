import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, recordStatements } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { createGenerations } from './factories/generation.ts';
import type { TypedDocumentString } from './gql/graphql.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import type { GraphQLResponse } from './helpers/graphql.ts';

const QueryCountPage = graphql(`
  query QueryCountPage($first: Int!, $after: String) {
    generations(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id prompt status images { url width } } }
    }
  }
`);

const QueryCountModels = graphql(`
  query QueryCountModels {
    imageModels { id }
  }
`);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

/** The table each statement reads, e.g. "ApiKey", to make a failing count readable. */
const tables = (statements: string[]) =>
  statements.map((sql) => /FROM "public"\."(\w+)"/.exec(sql)?.[1] ?? sql.slice(0, 40));

/** One request through yoga.fetch with the SQL statements it sent (the worker's are not counted). */
async function measure<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  key: string,
) {
  const { result, statements } = await recordStatements(async () => {
    const response = await app.yoga.fetch('http://fluxgate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as GraphQLResponse<TResult>;
  });
  expect(result.errors).toBeUndefined();
  if (!result.data) {
    throw new Error('no data');
  }
  return { data: result.data, statements };
}

/** `count` generations with one or two images each (alternating); returns images per prompt. */
async function generationsWithImages(ownerId: string, count: number) {
  const rows = await createGenerations(ownerId, count, (i) => ({
    prompt: `counted ${i}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
  }));
  const images = rows.flatMap((row, i) =>
    Array.from({ length: 1 + (i % 2) }, (_, index) => ({
      id: randomUUID(),
      generationId: String(row.id),
      index,
      storageKey: `count/${randomUUID()}.png`,
      format: 'PNG' as const,
      contentType: 'image/png',
      byteSize: 100,
      sha256: 'b'.repeat(64),
      width: 256 + 32 * index,
      height: 256,
    })),
  );
  await db.image.createMany({ data: images });
  return new Map(
    rows.map((row) => [row.prompt, images.filter((img) => img.generationId === row.id)]),
  );
}

describe('query count of the history page', () => {
  it('authenticating by Bearer key costs exactly one statement', async () => {
    const { key } = await createAccount();
    const { data, statements } = await measure(QueryCountModels, {}, key);
    expect(data.imageModels.length).toBeGreaterThan(0);
    // The account that holds the key, found with a semi-join on ApiKey in the same statement.
    expect(tables(statements)).toEqual(['Account']);
    expect(statements[0]).toContain('"ApiKey"');
  });

  it('reads a page with images and totalCount in the same few statements, whatever its size', async () => {
    const { account, key } = await createAccount();
    const imagesByPrompt = await generationsWithImages(account.id, 25);
    const auth = (await measure(QueryCountModels, {}, key)).statements.length;

    const read: string[][] = [];
    for (const first of [5, 20]) {
      const { data, statements } = await measure(QueryCountPage, { first }, key);
      const { edges, totalCount } = data.generations;
      expect(totalCount).toBe(25);
      expect(edges).toHaveLength(first);
      for (const { node } of edges) {
        const expected = imagesByPrompt.get(node.prompt) ?? [];
        expect(node.images).toEqual(
          expected.map((img) => ({
            url: `http://fluxgate.test/images/${img.id}`,
            width: img.width,
          })),
        );
      }
      expect(new Set(edges.map((e) => e.node.images.length))).toEqual(new Set([1, 2]));
      // Images of every generation on the page in one statement (the DataLoader batch).
      expect(tables(statements).filter((table) => table === 'Image')).toHaveLength(1);
      read.push(tables(statements));
    }

    const [small, large] = read.map((list) => list.length);
    expect(small).toBe(large);
    // The execution itself: the page, its images, the count.
    expect((large ?? 0) - auth).toBeLessThanOrEqual(3);
    // With the one authentication lookup (the message lists the tables read).
    expect(large, read[1]?.join(', ')).toBeLessThanOrEqual(4);
  });

  it('costs the same on a later page', async () => {
    const { account, key } = await createAccount();
    await generationsWithImages(account.id, 25);
    const head = await measure(QueryCountPage, { first: 20 }, key);
    const tail = await measure(
      QueryCountPage,
      { first: 20, after: head.data.generations.pageInfo.endCursor },
      key,
    );
    expect(tail.data.generations.edges).toHaveLength(5);
    expect(tail.statements).toHaveLength(head.statements.length);
  });
});
