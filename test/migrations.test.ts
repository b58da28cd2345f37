import { describe, expect, inject, it } from 'vitest';
import { db } from '../src/db.ts';
import { deploy, pendingSchemaChanges } from '../src/migrations.ts';

describe('migrations', () => {
  it('cover prisma/schema.prisma: no change is waiting for a migration', async () => {
    expect(await pendingSchemaChanges(inject('databaseUrl'))).toBe('');
  });

  it('are all applied, and deploying again applies nothing', async () => {
    expect(await deploy(inject('databaseUrl'))).toEqual([]);
    const rows = await db.$queryRaw<{ migration_name: string; finished_at: Date | null }[]>`
      SELECT migration_name, finished_at FROM _prisma_migrations`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.finished_at !== null)).toBe(true);
  });

  it('make prompt search a generated, indexed column', async () => {
    const columns = await db.$queryRaw<{ is_generated: string }[]>`
      SELECT is_generated FROM information_schema.columns
      WHERE table_name = 'Generation' AND column_name = 'promptSearch'`;
    expect(columns[0]?.is_generated).toBe('ALWAYS');
  });
});
