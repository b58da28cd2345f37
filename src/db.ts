import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

// The one Prisma client of the process. DATABASE_URL is read when this module is first imported:
// src/server.ts sets it (embedded PostgreSQL or the configured URL) before importing the app.
// Code generation imports the schema without a database; the client connects lazily.
const connectionString = process.env.DATABASE_URL ?? 'postgresql://unconfigured.invalid/none';

export const db = new PrismaClient({
  adapter: new PrismaPg({ connectionString, max: 10 }),
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
