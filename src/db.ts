import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

// The one Prisma client of the process. DATABASE_URL is read when this module is first imported:
// src/server.ts sets it (embedded PostgreSQL or the configured URL) before importing the app.
// Code generation imports the schema without a database; the client connects lazily.
const connectionString = process.env.DATABASE_URL ?? 'postgresql://unconfigured.invalid/none';

/** Our own pool, so that shutdown can end it and a dropped idle connection cannot crash us. */
export const pool = new pg.Pool({ connectionString, max: 10 });
pool.on('error', () => {
  // An idle connection was closed by the server (restart, failover): the pool replaces it.
});

export const db = new PrismaClient({
  adapter: new PrismaPg(pool),
  log: [{ emit: 'event', level: 'query' }],
});

export type Db = typeof db;
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

const statementCounter = new AsyncLocalStorage<{ statements: string[] }>();

db.$on('query', (event) => {
  statementCounter.getStore()?.statements.push(event.query);
});

/** Runs fn and returns the SQL statements it sent; used to pin query counts in tests. */
export async function recordStatements<T>(fn: () => Promise<T>) {
  const store = { statements: [] as string[] };
  const result = await statementCounter.run(store, fn);
  return { result, statements: store.statements };
}

/** Closes every database connection of this process (after the last query). */
export async function closeDatabase(): Promise<void> {
  await db.$disconnect();
  if (!pool.ended) {
    await pool.end();
  }
}
