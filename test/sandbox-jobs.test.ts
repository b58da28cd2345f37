import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { download, firstUrl, type Json, request, SMALL, sandboxCalls } from './helpers/sandbox.ts';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, latencyMs: 150 });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.reset();
});

const { call, generate, submit, waitFor } = sandboxCalls(() => sandbox);

describe('job timeline', () => {
  it('goes QUEUED → PROCESSING → COMPLETED with rising progress, images shape', async () => {
    sandbox.setFaults({ latencyMs: 800 });
    const accepted = await generate(request('timeline'));
    expect(accepted.json.status).toBe('QUEUED');
    const first = await call('GET', `/v2/jobs/${accepted.json.jobId}`);
    expect(first.json).toMatchObject({ status: 'QUEUED', result: null, completedAt: null });
    const { job, seen } = await waitFor(String(accepted.json.jobId), 'COMPLETED');
    const order = ['QUEUED', 'PROCESSING', 'COMPLETED'];
    const ranks = seen.map((entry) => order.indexOf(entry.status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks).toContain(1);
    const progress = seen.filter((s) => s.status === 'PROCESSING').map((s) => Number(s.progress));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.every((p) => p >= 0 && p <= 99)).toBe(true);
    expect(job).toMatchObject({ progress: 100, creditCost: 4, error: null, expired: false });
    expect((job.result as { images: string[] }).images).toHaveLength(1);
    expect(Date.parse(String(job.completedAt))).toBeGreaterThanOrEqual(
      Date.parse(String(job.createdAt)),
    );
  });

  it('returns one URL string when resultShape is "string"', async () => {
    sandbox.setFaults({ resultShape: 'string' });
    const jobId = await submit('string shape', { ...SMALL, output_format: 'png' });
    const { job } = await waitFor(jobId, 'COMPLETED');
    expect(typeof job.result).toBe('string');
    expect(String(job.result)).toMatch(/\/files\/[0-9a-f-]{36}\/0\.png$/);
    expect((await download(String(job.result))).status).toBe(200);
  });

  it('fails a job under failRate 1 with a refund', async () => {
    sandbox.setFaults({ failRate: 1 });
    const { job } = await waitFor(await submit('doomed'), 'FAILED');
    expect(job).toMatchObject({
      error: 'Provider returned an error: sandbox failure',
      creditCost: 0,
      result: null,
    });
    expect(sandbox.faults.credits).toBe(1_000_000);
  });

  it('keeps a job PROCESSING forever under neverFinishRate 1', async () => {
    sandbox.setFaults({ neverFinishRate: 1, latencyMs: 40 });
    const jobId = await submit('stuck');
    await new Promise((resolve) => setTimeout(resolve, 120));
    const reply = await call('GET', `/v2/jobs/${jobId}`);
    expect(reply.json).toMatchObject({ status: 'PROCESSING', completedAt: null });
  });

  it('expires image URLs after urlTtlS: 404 and expired=true', async () => {
    const { job } = await waitFor(await submit('short lived', SMALL), 'COMPLETED');
    const url = firstUrl(job);
    expect((await download(url)).status).toBe(200);
    sandbox.setFaults({ urlTtlS: 0 });
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: 'File expired' });
    expect((await call('GET', `/v2/jobs/${job.id}`)).json.expired).toBe(true);
  });
});

describe('idempotency', () => {
  it('replays the same job for the same key and body, in any key order', async () => {
    const first = await generate(request('once', { seed: 1, output_format: 'png' }), 'gen-1');
    const reordered = { fluxParams: { output_format: 'png', seed: 1 }, prompt: 'once' };
    const replay = await generate({ ...reordered, model: 'flux-1.1-pro' }, 'gen-1');
    expect(first.status).toBe(202);
    expect(replay.status).toBe(200);
    expect(replay.json.jobId).toBe(first.json.jobId);
    expect(sandbox.jobs.size).toBe(1);
    expect(sandbox.faults.credits).toBe(1_000_000 - 4);
  });

  it('reports the current status on a replay', async () => {
    const first = await generate(request('replay status'), 'gen-status');
    await waitFor(String(first.json.jobId), 'COMPLETED');
    const replay = await generate(request('replay status'), 'gen-status');
    expect(replay.json).toEqual({ jobId: first.json.jobId, status: 'COMPLETED' });
  });

  it('rejects the same key with another body with 409', async () => {
    await generate(request('first body'), 'gen-2');
    const conflict = await generate(request('second body'), 'gen-2');
    expect(conflict.status).toBe(409);
    expect(typeof conflict.json.error).toBe('string');
    expect(sandbox.jobs.size).toBe(1);
  });

  it('creates one job for 10 concurrent duplicates', async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => generate(request('burst'), 'gen-burst')),
    );
    expect(new Set(replies.map((r) => r.json.jobId)).size).toBe(1);
    expect(replies.filter((r) => r.status === 202)).toHaveLength(1);
    expect(sandbox.jobs.size).toBe(1);
  });
});

describe('job list', () => {
  it('pages newest first with a cursor and filters by status', async () => {
    sandbox.setFaults({ latencyMs: 60_000 });
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push(await submit(`page ${index}`));
    }
    const pages: Json[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/v2/jobs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await call('GET', query);
      expect(page.status).toBe(200);
      pages.push(page.json);
      cursor = page.json.nextCursor as string | null;
    } while (cursor !== null);
    expect(pages.map((page) => (page.jobs as Json[]).length)).toEqual([2, 2, 1]);
    expect(pages.map((page) => page.hasMore)).toEqual([true, true, false]);
    const listed = pages.flatMap((page) => (page.jobs as Json[]).map((job) => String(job.id)));
    const expected = [...sandbox.jobs.values()]
      .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.id < b.id ? 1 : -1))
      .map((job) => job.id);
    expect(listed).toEqual(expected);
    expect(new Set(listed)).toEqual(new Set(ids));

    const queued = await call('GET', '/v2/jobs?status=QUEUED&limit=100');
    expect((queued.json.jobs as Json[]).map((job) => job.status)).toEqual(Array(5).fill('QUEUED'));
    const completed = await call('GET', '/v2/jobs?status=COMPLETED');
    expect(completed.json).toEqual({ jobs: [], nextCursor: null, hasMore: false });
  });

  it('rejects a bad limit or cursor with 400', async () => {
    expect((await call('GET', '/v2/jobs?limit=0')).status).toBe(400);
    expect((await call('GET', '/v2/jobs?limit=101')).status).toBe(400);
    expect((await call('GET', '/v2/jobs?cursor=garbage')).status).toBe(400);
  });
});
