import { defineConfig } from 'prisma/config';

// Used by `prisma generate` only: migrations run through scripts/migrate.ts (WASM engine).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' },
});
