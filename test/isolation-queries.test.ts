import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.ts';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { query, request } from './helpers/graphql.ts';
import {
  globalId,
  IsolationGeneration,
  IsolationList,
  IsolationNode,
  IsolationNodes,
  isolationFixtures,
} from './helpers/isolation.ts';

const IsolationViewer = graphql(`
  query IsolationViewer {
    viewer { id name }
  }
`);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const { twoOwners } = isolationFixtures(() => app);

describe('isolation between accounts', () => {
  it('generation(id) shows A nothing of B, and B nothing of A', async () => {
    const { a, b, aIds, bIds } = await twoOwners();
    const own = await query(app, IsolationGeneration, { id: aIds.completed }, { key: a.key });
    expect(own.generation?.prompt).toBe('A secret 1');

    expect(await request(app, IsolationGeneration, { id: aIds.completed }, { key: b.key })).toEqual(
      {
        data: { generation: null },
      },
    );
    expect(await request(app, IsolationGeneration, { id: aIds.running }, { key: b.key })).toEqual({
      data: { generation: null },
    });
    expect(
      await request(app, IsolationGeneration, { id: bIds.generation }, { key: a.key }),
    ).toEqual({ data: { generation: null } });
  });

  it('generations lists only the caller’s rows, and totalCount counts only those', async () => {
    const { a, b, aRows, bRows } = await twoOwners();
    const { generations } = await query(app, IsolationList, {}, { key: b.key });
    expect(generations.totalCount).toBe(bRows.length);
    expect(generations.edges.map((e) => e.node.prompt).sort()).toEqual(['B own 0', 'B own 1']);
    const asA = await query(app, IsolationList, {}, { key: a.key });
    expect(asA.generations.totalCount).toBe(aRows.length);
    expect(asA.generations.edges.every((e) => e.node.prompt.startsWith('A secret'))).toBe(true);
  });

  it('node(id) hides A’s generation and image from B', async () => {
    const { a, b, aIds, bIds } = await twoOwners();
    for (const id of [aIds.completed, aIds.image]) {
      const own = await query(app, IsolationNode, { id }, { key: a.key });
      expect(own.node?.id).toBe(id);
      expect(await request(app, IsolationNode, { id }, { key: b.key })).toEqual({
        data: { node: null },
      });
    }
    const ownImage = await query(app, IsolationNode, { id: bIds.image }, { key: b.key });
    expect(ownImage.node).toMatchObject({ __typename: 'Image', id: bIds.image, index: 0 });
  });

  it('nodes(ids) returns null in place of anything not the caller’s', async () => {
    const { a, b, aIds, bIds } = await twoOwners();
    const ids = [aIds.completed, bIds.generation, aIds.image, globalId('Generation', randomUUID())];
    const asB = await query(app, IsolationNodes, { ids: [...ids, bIds.image] }, { key: b.key });
    expect(asB.nodes).toEqual([
      null,
      { __typename: 'Generation', id: bIds.generation },
      null,
      null,
      { __typename: 'Image', id: bIds.image },
    ]);
    const asA = await query(app, IsolationNodes, { ids }, { key: a.key });
    expect(asA.nodes).toEqual([
      { __typename: 'Generation', id: aIds.completed },
      null,
      { __typename: 'Image', id: aIds.image },
      null,
    ]);
  });

  it('viewer is the caller’s own account', async () => {
    const { a, b } = await twoOwners();
    const asB = await query(app, IsolationViewer, {}, { key: b.key });
    expect(asB.viewer).toEqual({ id: b.account.id, name: b.account.name });
    const asA = await query(app, IsolationViewer, {}, { key: a.key });
    expect(asA.viewer).toEqual({ id: a.account.id, name: a.account.name });
  });
});

describe('authentication', () => {
  it('rejects a wrong, malformed or revoked key with 401 UNAUTHENTICATED', async () => {
    const { account, key } = await createAccount();
    const wrong = await request(app, IsolationViewer, {}, { key: `${key}x`, status: 401 });
    expect(wrong.data ?? null).toBeNull();
    expect(wrong.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);

    const malformed = await app.yoga.fetch('http://fluxgate.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${key}` },
      body: JSON.stringify({ query: IsolationViewer.toString() }),
    });
    expect(malformed.status).toBe(401);
    const body = (await malformed.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);

    // The key works until it is revoked.
    expect((await query(app, IsolationViewer, {}, { key })).viewer.id).toBe(account.id);
    await db.apiKey.update({
      where: { keyHash: hashApiKey(key) },
      data: { revokedAt: new Date() },
    });
    const revoked = await request(app, IsolationViewer, {}, { key, status: 401 });
    expect(revoked.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});
