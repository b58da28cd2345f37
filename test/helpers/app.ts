import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { db } from '../../src/db.ts';

export const TEST_PUBLIC_URL = 'http://fluxgate.test';

// Module state is per test file (each file gets a fresh module graph).
let queueCleared = false;

/**
 * Work an earlier test file left in flight would talk to that file's (closed) sandbox, and the
 * recovery sweep re-drives active generations that have no job. Tests count upstream requests,
 * so each file starts with no work in flight: no jobs, no active generations.
 */
export async function resetInFlightWork(): Promise<void> {
  await db.$executeRaw`DELETE FROM graphile_worker._private_jobs`;
  await db.generation.updateMany({
    where: { status: { in: ['PENDING', 'QUEUED', 'PROCESSING'] } },
    data: {
      status: 'CANCELLED',
      errorCode: 'TEST_RESET',
      errorMessage: 'left by an earlier test file',
    },
  });
}

/**
 * The whole service in-process: Yoga (called through yoga.fetch), the worker on the test
 * database, and the built-in sandbox upstream over real HTTP on a random port.
 */
export async function startTestApp(env: Record<string, string> = {}, runWorker = true) {
  const storageDir = mkdtempSync(path.join(tmpdir(), 'fluxgate-images-'));
  const databaseUrl = process.env.DATABASE_URL as string;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: TEST_PUBLIC_URL,
    STORAGE_DIR: storageDir,
    SANDBOX_LATENCY_MS: '300',
    POLL_INITIAL_MS: '50',
    POLL_MAX_MS: '200',
    WORKER_POLL_INTERVAL_MS: '50',
    RETRY_BASE_MS: '100',
    // The test PUBLIC_URL is not loopback, so "auto" would turn webhooks on; tests choose.
    WEBHOOKS: 'off',
    ...env,
  });
  if (!queueCleared) {
    await resetInFlightWork();
    queueCleared = true;
  }
  const app: App = await startApp(config, { databaseUrl, runWorker });
  const sandbox = app.sandbox;
  if (!sandbox) {
    throw new Error('tests expect the built-in sandbox upstream');
  }
  return {
    ...app,
    sandbox,
    storageDir,
    async stop() {
      // The database stays open for the file's other apps; test/setup.ts closes it.
      await app.stopBackground();
      rmSync(storageDir, { recursive: true, force: true });
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/** Requests the sandbox received to create jobs (what fluxgate sent upstream). */
export const generateRequests = (app: TestApp) =>
  app.sandbox.requests.filter((r) => r.method === 'POST' && r.path === '/v2/images/generate');
