import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from './factories/account.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { GenerateImage } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ SANDBOX_LATENCY_MS: '800' });
});
afterAll(() => app.stop());

const ORDER = ['PENDING', 'QUEUED', 'PROCESSING', 'COMPLETED'];

/** Subscribes over Server-Sent Events, as a browser's EventSource would, and reads to the end. */
async function subscribe(id: string, key: string) {
  const response = await app.yoga.fetch('http://fluxgate.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({
      query:
        'subscription ($id: ID!) { generationUpdated(id: $id) { id status progress images { sha256 } } }',
      variables: { id },
    }),
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const text = await response.text();
  const events = text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .find((line) => line.startsWith('data:'))
        ?.slice(5)
        .trim(),
    )
    .filter((data): data is string => Boolean(data))
    .map(
      (data) =>
        JSON.parse(data) as {
          data?: {
            generationUpdated: { status: string; progress: number | null; images: unknown[] };
          };
          errors?: { message: string }[];
        },
    );
  return { events, completed: text.includes('event: complete') };
}

describe('generationUpdated', () => {
  it('streams each change in lifecycle order and ends when final', async () => {
    const { key } = await createAccount();
    const { generateImage } = await query(
      app,
      GenerateImage,
      { input: { prompt: 'live' } },
      { key },
    );
    if (generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(generateImage.__typename);
    }
    const { events, completed } = await subscribe(generateImage.generation.id, key);
    const statuses = events.map((e) => e.data?.generationUpdated.status ?? 'error');
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses.length).toBeGreaterThanOrEqual(2);
    const ranks = statuses.map((s) => ORDER.indexOf(s));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(events.at(-1)?.data?.generationUpdated.images).toHaveLength(1);
    expect(completed).toBe(true);
  });

  it('refuses another owner’s generation', async () => {
    const owner = await createAccount();
    const stranger = await createAccount();
    const { generateImage } = await query(
      app,
      GenerateImage,
      { input: { prompt: 'private' } },
      { key: owner.key },
    );
    if (generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(generateImage.__typename);
    }
    const { events } = await subscribe(generateImage.generation.id, stranger.key);
    expect(events.some((e) => e.data?.generationUpdated)).toBe(false);
    expect(events[0]?.errors?.[0]?.message).toBe('Generation not found');
  });
});
