import path from 'node:path';
import type { Config } from './config.ts';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded-postgres.ts';
import { deploy } from './migrations.ts';

/**
 * The database a process should use: DATABASE_URL, or the embedded PostgreSQL kept in
 * DATA_DIR/postgres (started here, or reused when another fluxgate process runs it). Pending
 * migrations are applied either way. Sets process.env.DATABASE_URL for src/db.ts.
 */
export async function prepareDatabase(
  config: Config,
  log: (message: string, data?: object) => void,
) {
  let embedded: EmbeddedPostgresHandle | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    const dataDir = path.join(config.DATA_DIR, 'postgres');
    log('DATABASE_URL is unset: using the embedded PostgreSQL', { dataDir });
    embedded = await startEmbeddedPostgres({ dataDir, port: config.EMBEDDED_PG_PORT });
    url = embedded.url;
  }
  process.env.DATABASE_URL = url;
  const applied = await deploy(url);
  if (applied.length > 0) {
    log('applied database migrations', { applied });
  }
  return { url, stop: async () => embedded?.stop() };
}
