import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMigrations } from 'graphile-worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/embedded-postgres.ts';
import { deploy } from '../src/migrations.ts';
import { freePort } from './helpers/process.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** A database of its own for this run on the server DATABASE_URL names (local servers only). */
async function createRunDatabase(serverUrl: string) {
  const url = new URL(serverUrl);
  if (!['localhost', '127.0.0.1', '::1', '[::1]'].includes(url.hostname)) {
    throw new Error(`Refusing to run tests against a non-local database (${url.hostname})`);
  }
  const name = `fluxgate_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** With DATABASE_URL: a fresh database on that server. Without: a throw-away embedded cluster. */
export default async function setup(project: TestProject) {
  let url: string;
  let teardown: () => Promise<void>;
  if (process.env.DATABASE_URL) {
    const database = await createRunDatabase(process.env.DATABASE_URL);
    url = database.url;
    teardown = database.drop;
  } else {
    // PostgreSQL runs as the postgres OS user when we are root: its parent must be traversable.
    const parent = mkdtempSync(path.join(tmpdir(), 'fluxgate-test-'));
    chmodSync(parent, 0o755);
    const cluster = await startEmbeddedPostgres({
      dataDir: path.join(parent, 'pg'),
      port: await freePort(),
      persistent: false,
    });
    url = cluster.url;
    teardown = async () => {
      await cluster.stop();
      rmSync(parent, { recursive: true, force: true });
    };
  }
  await deploy(url);
  await runMigrations({ connectionString: url });
  process.env.DATABASE_URL = url;
  project.provide('databaseUrl', url);
  return teardown;
}
