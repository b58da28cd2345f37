import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from './factories/account.ts';
import { graphql } from './gql/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { startGeneration } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';
import { waitForFinal } from './helpers/wait.ts';

const Tracking = graphql(`
  query FaultsTracking($id: ID!) {
    generation(id: $id) {
      status
      error { code }
      tracking { submitAttempts statusPolls resultUrls submittedAt processingAt upstreamCompletedAt }
    }
  }
`);

const Cancel = graphql(`
  mutation FaultsCancel($id: ID!) {
    cancelGeneration(id: $id) {
      __typename
      ... on CancelGenerationSuccess { generation { status error { code } } }
    }
  }
`);

let app: TestApp;
let key: string;
beforeAll(async () => {
  app = await startTestApp();
  ({ key } = await createAccount());
});
afterEach(() => app.sandbox.reset());
afterAll(() => app.stop());

const generate = (prompt: string) => startGeneration(app, key, { prompt });

const filesOf = (upstreamJobId: string | null | undefined) =>
  app.sandbox.requests.filter((r) => upstreamJobId && r.path.startsWith(`/files/${upstreamJobId}`));

describe('faults end in the right final state', () => {
  it('COMPLETED through storms of 429 and 503 on every route', async () => {
    app.sandbox.setFaults({
      httpFaults: [
        // About a third of all requests fail, downloads included.
        { route: 'any', status: 429, rate: 0.2, retryAfterS: 0 },
        { route: 'any', status: 503, rate: 0.2 },
      ],
    });
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => generate(`storm ${i}`)));
    const done = await Promise.all(ids.map((id) => waitForFinal(app, id, key, 25_000)));
    expect(done.map((g) => g.status)).toEqual(Array(5).fill('COMPLETED'));
    const faulted = app.sandbox.requests.filter((r) => r.status === 429 || r.status === 503);
    expect(faulted.length).toBeGreaterThan(0);
  });

  it('CANCELLED stays cancelled: the late result is never downloaded', async () => {
    app.sandbox.setFaults({ latencyMs: 800 });
    const id = await generate('cancel me');
    const { cancelGeneration } = await query(app, Cancel, { id }, { key });
    if (cancelGeneration.__typename !== 'CancelGenerationSuccess') {
      throw new Error(cancelGeneration.__typename);
    }
    expect(cancelGeneration.generation.status).toBe('CANCELLED');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('CANCELLED');
    expect(generation.images).toEqual([]);
    expect(filesOf(generation.upstreamJobId)).toHaveLength(0);
  });

  it('CANCELLED when upstream cancels the job', async () => {
    app.sandbox.setFaults({ cancelRate: 1 });
    const generation = await waitForFinal(app, await generate('cancelled upstream'), key);
    expect(generation.status).toBe('CANCELLED');
    expect(generation.error).toEqual({ code: 'CANCELLED', message: 'Cancelled upstream' });
    expect(generation.images).toEqual([]);
  });

  it.each(['string', 'images'] as const)(
    'stores the image of a %s-shaped result',
    async (shape) => {
      app.sandbox.setFaults({ resultShape: shape });
      const id = await generate(`shape ${shape}`);
      const generation = await waitForFinal(app, id, key);
      expect(generation.status).toBe('COMPLETED');
      expect(generation.images).toHaveLength(1);
      const { generation: tracked } = await query(app, Tracking, { id }, { key });
      expect(tracked?.tracking.resultUrls).toEqual([generation.images[0]?.sourceUrl]);
    },
  );

  it('FAILED with OUTPUT_EXPIRED when the upstream URL has expired, keeping it on record', async () => {
    app.sandbox.setFaults({ urlTtlS: 0 });
    const id = await generate('too late');
    const generation = await waitForFinal(app, id, key);
    expect(generation.status).toBe('FAILED');
    expect(generation.error?.code).toBe('OUTPUT_EXPIRED');
    const { generation: tracked } = await query(app, Tracking, { id }, { key });
    expect(tracked?.tracking.resultUrls).toHaveLength(1);
    expect(tracked?.tracking.resultUrls[0]).toContain(app.sandbox.url);
  });

  it('records attempts and timings', async () => {
    app.sandbox.setFaults({ httpFaults: [{ route: 'generate', status: 503, times: 1 }] });
    const id = await generate('traced');
    await waitForFinal(app, id, key);
    const { generation } = await query(app, Tracking, { id }, { key });
    const tracking = generation?.tracking;
    expect(tracking?.submitAttempts).toBe(2);
    expect(tracking?.statusPolls).toBeGreaterThan(0);
    const times = [tracking?.submittedAt, tracking?.upstreamCompletedAt].map((t) =>
      Date.parse(t ?? ''),
    );
    expect(times.every(Number.isFinite)).toBe(true);
  });
});
