import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { db } from '../../src/db.ts';
import { createAccount } from '../factories/account.ts';
import { createGenerations } from '../factories/generation.ts';
import { graphql } from '../gql/index.ts';
import type { TestApp } from './app.ts';
import { query } from './graphql.ts';

// Two accounts with rows each, and the reads both sides of the isolation tests use.

export const IsolationGeneration = graphql(`
  query IsolationGeneration($id: ID!) {
    generation(id: $id) { id prompt status }
  }
`);

export const IsolationList = graphql(`
  query IsolationList {
    generations(first: 100) {
      totalCount
      edges { node { id prompt images { id } } }
    }
  }
`);

export const IsolationNode = graphql(`
  query IsolationNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Generation { prompt }
      ... on Image { index }
    }
  }
`);

export const IsolationNodes = graphql(`
  query IsolationNodes($ids: [ID!]!) {
    nodes(ids: $ids) { __typename id }
  }
`);

export const globalId = (typename: string, id: string) =>
  Buffer.from(`${typename}:${id}`).toString('base64');

async function addImage(generationId: string, index = 0) {
  return db.image.create({
    data: {
      id: randomUUID(),
      generationId,
      index,
      storageKey: `isolation/${randomUUID()}.png`,
      format: 'PNG',
      contentType: 'image/png',
      byteSize: 1234,
      sha256: 'a'.repeat(64),
      width: 64,
      height: 64,
    },
  });
}

/** Fixtures built through the file's app, read through `current` (it starts in beforeAll). */
export function isolationFixtures(current: () => TestApp) {
  /** Two owners with rows each (A: one running, two completed, an image); global ids read as A/B. */
  async function twoOwners() {
    const app = current();
    const a = await createAccount();
    const b = await createAccount();
    const aRows = await createGenerations(a.account.id, 3, (i) => ({
      prompt: `A secret ${i}`,
      status: i === 0 ? 'PROCESSING' : 'COMPLETED',
      createdAt: new Date(Date.UTC(2026, 0, 1, i)),
    }));
    const bRows = await createGenerations(b.account.id, 2, (i) => ({
      prompt: `B own ${i}`,
      createdAt: new Date(Date.UTC(2026, 0, 1, i)),
    }));
    await addImage(String(aRows[1]?.id));
    await addImage(String(bRows[0]?.id));

    const ids = async (key: string) => {
      const { generations } = await query(app, IsolationList, {}, { key });
      const byPrompt = new Map(generations.edges.map((e) => [e.node.prompt, e.node]));
      const node = (prompt: string) => {
        const found = byPrompt.get(prompt);
        if (!found) {
          throw new Error(`${prompt} is not visible to its owner`);
        }
        return found;
      };
      return { node, list: generations };
    };
    const aIds = await ids(a.key);
    const bIds = await ids(b.key);
    const running = aIds.node('A secret 0').id;
    const withImage = aIds.node('A secret 1');
    const aImage = withImage.images[0]?.id;
    const bImage = bIds.node('B own 0').images[0]?.id;
    if (!aImage || !bImage) {
      throw new Error('images are not visible to their owners');
    }
    // A well-formed unknown id is only meaningful if ids really are Relay "Type:uuid" strings.
    expect(Buffer.from(running, 'base64').toString('utf8')).toBe(`Generation:${aRows[0]?.id}`);
    return {
      a,
      b,
      aRows,
      bRows,
      aIds: { running, completed: withImage.id, image: aImage },
      bIds: { generation: bIds.node('B own 0').id, other: bIds.node('B own 1').id, image: bImage },
    };
  }

  return { twoOwners };
}

/** Global ids that name nothing of B's: unknown, malformed, or of the wrong type. */
export function foreignLookalikes(imageId: string) {
  return [
    globalId('Generation', randomUUID()),
    globalId('Generation', 'not-a-uuid'),
    globalId('Account', randomUUID()),
    'not a global id',
    '',
    imageId,
  ];
}
