import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { startGeneration } from './helpers/documents.ts';
import { nextPayloads, subscribeOverSse } from './helpers/sse.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ SANDBOX_LATENCY_MS: '800' });
});
afterAll(() => app.stop());

const ORDER = ['PENDING', 'QUEUED', 'PROCESSING', 'COMPLETED'];
const WATCH =
  'subscription ($id: ID!) { generationUpdated(id: $id) { id status progress images { sha256 } } }';

type Update = {
  data?: { generationUpdated: { status: string; images: unknown[] } };
  errors?: { message: string }[];
};

const start = (prompt: string, key: string) => startGeneration(app, key, { prompt });

describe('generationUpdated', () => {
  it('streams each change in lifecycle order and ends when final', async () => {
    const { key } = await createAccount();
    const id = await start('live', key);
    const events = await subscribeOverSse(app, WATCH, { id }, key);
    const updates = nextPayloads<Update>(events);
    const statuses = updates.map((u) => u.data?.generationUpdated.status ?? 'error');
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    const ranks = statuses.map((s) => ORDER.indexOf(s));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(updates.at(-1)?.data?.generationUpdated.images).toHaveLength(1);
    expect(events.at(-1)?.event).toBe('complete');
  });

  it('refuses another owner’s generation', async () => {
    const owner = await createAccount();
    const stranger = await createAccount();
    const id = await start('private', owner.key);
    const updates = nextPayloads<Update>(await subscribeOverSse(app, WATCH, { id }, stranger.key));
    expect(updates.some((u) => u.data?.generationUpdated)).toBe(false);
    expect(updates[0]?.errors?.[0]?.message).toBe('Generation not found');
  });
});
