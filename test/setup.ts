import { afterAll, inject } from 'vitest';

// Runs before each test file's imports: src/db.ts reads DATABASE_URL when first imported.
process.env.DATABASE_URL = inject('databaseUrl');

afterAll(async () => {
  // Each file gets a fresh module graph (and pool): close it so connections don't pile up.
  const { closeDatabase } = await import('../src/db.ts');
  await closeDatabase();
});
