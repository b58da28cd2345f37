import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.ts';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import { createGenerations } from './factories/generation.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { query, request } from './helpers/graphql.ts';

const IsolationGeneration = graphql(`
  query IsolationGeneration($id: ID!) {
    generation(id: $id) { id prompt status }
  }
`);

const IsolationList = graphql(`
  query IsolationList {
    generations(first: 100) {
      totalCount
      edges { node { id prompt images { id } } }
    }
  }
`);

const IsolationNode = graphql(`
  query IsolationNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Generation { prompt }
      ... on Image { index }
    }
  }
`);

const IsolationNodes = graphql(`
  query IsolationNodes($ids: [ID!]!) {
    nodes(ids: $ids) { __typename id }
  }
`);

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

const IsolationViewer = graphql(`
  query IsolationViewer {
    viewer { id name }
  }
`);

const IsolationWatch = graphql(`
  subscription IsolationWatch($id: ID!) {
    generationUpdated(id: $id) { id status prompt }
  }
`);

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const globalId = (typename: string, id: string) =>
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

/** Two owners with rows each (A: one running, two completed, an image); global ids read as A/B. */
async function twoOwners() {
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

/** Global ids that name nothing of B's: unknown, malformed, or of the wrong type. */
function foreignLookalikes(imageId: string) {
  return [
    globalId('Generation', randomUUID()),
    globalId('Generation', 'not-a-uuid'),
    globalId('Account', randomUUID()),
    'not a global id',
    '',
    imageId,
  ];
}

const rowState = (id: string) =>
  db.generation.findUniqueOrThrow({ where: { id }, include: { images: true } });

interface SseEvent {
  event: string;
  data: unknown;
}

/** Subscribes over Server-Sent Events and reads the stream until it completes. */
async function subscribe(key: string, id: string): Promise<SseEvent[]> {
  const response = await app.yoga.fetch('http://fluxgate.test/graphql', {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ query: IsolationWatch.toString(), variables: { id } }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body?.getReader();
  if (!reader) {
    throw new Error('no response body');
  }
  const decoder = new TextDecoder();
  const timeout = setTimeout(() => void reader.cancel(), 5_000);
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      text += decoder.decode(value, { stream: true });
      if (/^event: complete$/m.test(text)) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    clearTimeout(timeout);
  }
  const events = text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line && !line.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const field = (name: string) =>
        lines
          .find((line) => line.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      const data = field('data');
      return { event: field('event') ?? 'message', data: data ? JSON.parse(data) : null };
    });
  expect(events.at(-1)?.event).toBe('complete');
  return events;
}

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

  it('viewer is the caller’s own account', async () => {
    const { a, b } = await twoOwners();
    const asB = await query(app, IsolationViewer, {}, { key: b.key });
    expect(asB.viewer).toEqual({ id: b.account.id, name: b.account.name });
    const asA = await query(app, IsolationViewer, {}, { key: a.key });
    expect(asA.viewer).toEqual({ id: a.account.id, name: a.account.name });
  });

  it('generationUpdated on A’s id gives B an error and no data', async () => {
    const { b, aIds, bIds } = await twoOwners();
    const own = await subscribe(b.key, bIds.generation);
    expect(own).toEqual([
      {
        event: 'next',
        data: {
          data: {
            generationUpdated: { id: bIds.generation, status: 'COMPLETED', prompt: 'B own 0' },
          },
        },
      },
      { event: 'complete', data: null },
    ]);

    for (const id of [aIds.running, aIds.completed]) {
      const events = await subscribe(b.key, id);
      expect(JSON.stringify(events)).not.toContain('A secret');
      const payloads = events.filter((e) => e.event === 'next').map((e) => e.data);
      expect(payloads).toHaveLength(1);
      expect(payloads[0]).toMatchObject({ errors: [{ message: expect.any(String) }] });
      expect(payloads[0]).not.toHaveProperty('data.generationUpdated.id');
    }
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

  it('an unknown or malformed id behaves exactly like another owner’s in generationUpdated', async () => {
    const { b, aIds } = await twoOwners();
    // A malformed id must read as "not found", never reach Postgres as a bad uuid.
    const reference = await subscribe(b.key, aIds.running);
    expect(reference[0]?.data).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    // All ids at once, so the diff shows every id that behaves differently.
    const ids = foreignLookalikes(aIds.image);
    const actual = [];
    for (const id of ids) {
      actual.push({ id, events: await subscribe(b.key, id) });
    }
    expect(actual).toEqual(ids.map((id) => ({ id, events: reference })));
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
