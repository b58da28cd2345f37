import { inject } from 'vitest';

// Runs before each test file's imports: src/db.ts reads DATABASE_URL when first imported.
process.env.DATABASE_URL = inject('databaseUrl');
