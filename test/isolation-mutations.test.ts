import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { query, request } from './helpers/graphql.ts';
import {
  foreignLookalikes,
  IsolationGeneration,
  IsolationNode,
  IsolationNodes,
  isolationFixtures,
} from './helpers/isolation.ts';

const IsolationRegenerate = graphql(`
  mutation IsolationRegenerate($id: ID!) {
    regenerateImage(id: $id, input: { prompt: "stolen" }) {
      __typename
      ... on Error { code message }
      ... on GenerateImageSuccess { generation { id } }
    }
  }
`);

const IsolationCancel = graphql(`
  mutation IsolationCancel($id: ID!) {
    cancelGeneration(id: $id) {
      __typename
      ... on Error { code message }
      ... on CancelGenerationSuccess { generation { id status } }
    }
  }
`);

const IsolationDelete = graphql(`
  mutation IsolationDelete($id: ID!) {
    deleteGeneration(id: $id) {
      __typename
      ... on Error { code message }
      ... on DeleteGenerationSuccess { deletedId }
    }
  }
`);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const { twoOwners } = isolationFixtures(() => app);

const rowState = (id: string) =>
  db.generation.findUniqueOrThrow({ where: { id }, include: { images: true } });

describe('isolation between accounts', () => {
  it('regenerate, cancel and delete on A’s id give B NotFoundError and change nothing', async () => {
    const { a, b, aRows, aIds } = await twoOwners();
    const runningId = String(aRows[0]?.id);
    const completedId = String(aRows[1]?.id);
    const before = { running: await rowState(runningId), completed: await rowState(completedId) };
    const countBefore = await db.generation.count();
    const notFound = {
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      message: expect.any(String),
    };

    for (const id of [aIds.running, aIds.completed]) {
      const regenerated = await query(app, IsolationRegenerate, { id }, { key: b.key });
      expect(regenerated.regenerateImage).toEqual(notFound);
      const cancelled = await query(app, IsolationCancel, { id }, { key: b.key });
      expect(cancelled.cancelGeneration).toEqual(notFound);
      const deleted = await query(app, IsolationDelete, { id }, { key: b.key });
      expect(deleted.deleteGeneration).toEqual(notFound);
    }

    expect(await rowState(runningId)).toEqual(before.running);
    expect(await rowState(completedId)).toEqual(before.completed);
    expect(before.completed.images).toHaveLength(1);
    expect(await db.generation.count()).toBe(countBefore);

    // The same ids work for their owner, so B's NotFoundError was about ownership.
    const cancelled = await query(app, IsolationCancel, { id: aIds.running }, { key: a.key });
    expect(cancelled.cancelGeneration).toEqual({
      __typename: 'CancelGenerationSuccess',
      generation: { id: aIds.running, status: 'CANCELLED' },
    });
    const deleted = await query(app, IsolationDelete, { id: aIds.completed }, { key: a.key });
    expect(deleted.deleteGeneration).toEqual({
      __typename: 'DeleteGenerationSuccess',
      deletedId: aIds.completed,
    });
  });

  it('an unknown or malformed id behaves exactly like another owner’s in queries and mutations', async () => {
    const { b, aIds } = await twoOwners();
    const reference = {
      generation: await request(app, IsolationGeneration, { id: aIds.running }, { key: b.key }),
      node: await request(app, IsolationNode, { id: aIds.running }, { key: b.key }),
      regenerate: await request(app, IsolationRegenerate, { id: aIds.running }, { key: b.key }),
      cancel: await request(app, IsolationCancel, { id: aIds.running }, { key: b.key }),
      delete: await request(app, IsolationDelete, { id: aIds.running }, { key: b.key }),
    };
    expect(reference.cancel.data?.cancelGeneration.__typename).toBe('NotFoundError');

    for (const id of foreignLookalikes(aIds.image)) {
      expect(await request(app, IsolationGeneration, { id }, { key: b.key })).toEqual(
        reference.generation,
      );
      expect(await request(app, IsolationRegenerate, { id }, { key: b.key })).toEqual(
        reference.regenerate,
      );
      expect(await request(app, IsolationCancel, { id }, { key: b.key })).toEqual(reference.cancel);
      expect(await request(app, IsolationDelete, { id }, { key: b.key })).toEqual(reference.delete);
      // An image id is a valid node of A's, so node() is compared only for the others.
      if (id !== aIds.image) {
        expect(await request(app, IsolationNode, { id }, { key: b.key })).toEqual(reference.node);
      }
    }
    const ids = foreignLookalikes(aIds.image);
    const nodes = await query(app, IsolationNodes, { ids }, { key: b.key });
    expect(nodes.nodes).toEqual(ids.map(() => null));
  });
});
