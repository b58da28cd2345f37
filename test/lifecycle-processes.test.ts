import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { db } from '../src/db.ts';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { createAccount } from './factories/account.ts';
import { resetInFlightWork } from './helpers/app.ts';
import {
  childEnv,
  freePort,
  killAll,
  type RunningProcess,
  startProcess,
} from './helpers/process.ts';

// Real fluxgate processes on the test database, all talking over HTTP to one sandbox upstream
// in this process, so that every upstream request of every process is counted in one place.

let sandbox: Sandbox;
let storageDir: string;
beforeAll(async () => {
  await resetInFlightWork();
  sandbox = await createSandbox({ port: 0, latencyMs: 1500 });
  storageDir = mkdtempSync(path.join(tmpdir(), 'fluxgate-procs-'));
});
afterEach(() => killAll());
afterAll(async () => {
  await sandbox.close();
  rmSync(storageDir, { recursive: true, force: true });
});

async function startFluxgate(): Promise<RunningProcess & { port: number }> {
  const port = await freePort();
  const child = startProcess(
    ['src/server.ts'],
    childEnv({
      DATABASE_URL: inject('databaseUrl'),
      APIFRAME_API_KEY: sandbox.apiKey,
      APIFRAME_BASE_URL: sandbox.url,
      PORT: String(port),
      STORAGE_DIR: storageDir,
      POLL_INITIAL_MS: '100',
      POLL_MAX_MS: '300',
      WORKER_POLL_INTERVAL_MS: '100',
      RECOVERY_INTERVAL_MS: '500',
    }),
  );
  await child.waitForLog('fluxgate is ready');
  return Object.assign(child, { port });
}

async function generate(port: number, key: string, prompt: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: `mutation ($prompt: String!) { generateImage(input: { prompt: $prompt }) {
        ... on GenerateImageSuccess { generation { id } } } }`,
      variables: { prompt },
    }),
  });
  const body = (await response.json()) as {
    data: { generateImage: { generation: { id: string } } };
  };
  return body.data.generateImage.generation.id;
}

/** Waits until every generation of the account is final; returns them with their images. */
async function waitAllFinal(ownerId: string, count: number, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db.generation.findMany({ where: { ownerId }, include: { images: true } });
    const final = rows.filter((r) =>
      ['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED'].includes(r.status),
    );
    if ((rows.length === count && final.length === count) || Date.now() > deadline) {
      return rows;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const jobsCreated = () => sandbox.jobs.size;
const fileDownloads = () => sandbox.requests.filter((r) => r.path.startsWith('/files/')).length;

describe('crash recovery', () => {
  it('finishes all 20 generations after kill -9 mid-flight, with 20 upstream jobs', async () => {
    sandbox.reset();
    const { account, key } = await createAccount();
    const first = await startFluxgate();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => generate(first.port, key, `crash ${i}`)),
    );
    // Let some be submitted and some polled, then pull the plug: no drain, no cleanup.
    await new Promise((resolve) => setTimeout(resolve, 400));
    first.child.kill('SIGKILL');
    await first.exited;
    const before = await db.generation.groupBy({
      by: ['status'],
      where: { ownerId: account.id },
      _count: true,
    });
    expect(before.some((g) => g.status !== 'COMPLETED')).toBe(true);

    const second = await startFluxgate();
    const rows = await waitAllFinal(account.id, 20);
    expect(rows.map((r) => r.status)).toEqual(Array(20).fill('COMPLETED'));
    expect(rows.every((r) => r.images.length === 1)).toBe(true);
    expect(jobsCreated()).toBe(20);
    // The killed process's worker pool was found dead and its jobs freed at once.
    expect(second.output()).toContain('recovered work of stopped processes');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});

describe('two processes on one database', () => {
  it('submit each of 50 generations once and store each image once', async () => {
    sandbox.reset();
    const { account, key } = await createAccount();
    const [a, b] = await Promise.all([startFluxgate(), startFluxgate()]);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => generate(i % 2 ? a.port : b.port, key, `replica ${i}`)),
    );
    const rows = await waitAllFinal(account.id, 50);
    expect(rows.map((r) => r.status)).toEqual(Array(50).fill('COMPLETED'));
    const posts = sandbox.requests.filter(
      (r) => r.method === 'POST' && r.path === '/v2/images/generate',
    );
    expect(posts).toHaveLength(50);
    expect(new Set(posts.map((p) => p.idempotencyKey)).size).toBe(50);
    expect(jobsCreated()).toBe(50);
    expect(fileDownloads()).toBe(50);
    expect(rows.flatMap((r) => r.images)).toHaveLength(50);
    const stored = rows.flatMap((r) => readdirSync(path.join(storageDir, r.id)));
    expect(stored).toHaveLength(50);
    // Both processes did work.
    for (const replica of [a, b]) {
      expect(replica.output()).toContain('"msg":"step done"');
    }
  }, 120_000);
});
