import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { foreignLookalikes, isolationFixtures } from './helpers/isolation.ts';
import { type SseEvent, subscribeOverSse } from './helpers/sse.ts';

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

const { twoOwners } = isolationFixtures(() => app);

/** Subscribes as `key` to one generation and reads the stream until it completes. */
async function subscribe(key: string, id: string): Promise<SseEvent[]> {
  const events = await subscribeOverSse(app, IsolationWatch.toString(), { id }, key, 5_000);
  expect(events.at(-1)?.event).toBe('complete');
  return events;
}

describe('isolation between accounts', () => {
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
