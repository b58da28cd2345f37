// Migration runner on Prisma's WASM schema engine (CLI: scripts/migrate.ts). Prisma's CLI needs a native engine that is
// downloaded from Prisma's binary host at first use; this runner needs only npm packages.
// `create` replaces `prisma migrate dev --create-only` (diffing the committed snapshot, since
// the engine cannot diff a live database through adapter-pg); `deploy` writes the same
// `_prisma_migrations` rows as `prisma migrate deploy`.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = path.join(root, 'prisma/schema.prisma');
const migrationsDir = path.join(root, 'prisma/migrations');
const snapshotPath = path.join(migrationsDir, 'schema.snapshot.prisma');
const filters = { externalTables: [], externalEnums: [] };

/** The slice of the engine's (untyped, undocumented) API this runner uses. */
interface SchemaEngine {
  applyMigrations(input: unknown): Promise<{ appliedMigrationNames: string[] }>;
  diff(input: unknown): Promise<{ stdout?: string | null }>;
  free(): void;
}
interface WasmGlue {
  __wbg_set_wasm(exports: WebAssembly.Exports): void;
  SchemaEngine: { new: (...args: unknown[]) => Promise<SchemaEngine> };
}
const glue = bg as unknown as WasmGlue;

let loaded = false;
function loadWasm(): void {
  // Instantiated by hand with the wasm-bindgen glue: no ExperimentalWarning, engine selectable.
  if (loaded) {
    return;
  }
  const dir = path.dirname(
    createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg'),
  );
  const wasmPath = process.env.SCHEMA_ENGINE_WASM ?? path.join(dir, 'schema_engine_bg.wasm');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), {
    './schema_engine_bg.js': bg as unknown as WebAssembly.ModuleImports,
  });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  loaded = true;
}

async function withEngine<T>(url: string, fn: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  loadWasm();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[schemaPath, readFileSync(schemaPath, 'utf8')]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool)),
  );
  // The engine leaves a 10 s timer armed; unref it so the process can exit.
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((cb: () => void, ms?: number, ...rest: unknown[]) =>
    (realSetTimeout(cb, ms, ...rest) as unknown as NodeJS.Timeout).unref()) as typeof setTimeout;
  try {
    return await fn(engine);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    engine.free();
    await pool.end();
  }
}

function migrationsList() {
  const names = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  const lock = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    shadowDbInitScript: '',
    lockfile: { path: lock, content: existsSync(lock) ? readFileSync(lock, 'utf8') : null },
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: {
          tag: 'ok',
          value: readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8'),
        },
      },
    })),
  };
}

/** Applies pending migrations; returns the names applied now. */
export function deploy(url: string): Promise<string[]> {
  return withEngine(url, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList: migrationsList(), filters });
    return result.appliedMigrationNames;
  });
}

/** The SQL that would bring the last migration's snapshot to prisma/schema.prisma ('' if none). */
export async function pendingSchemaChanges(url: string): Promise<string> {
  const current = readFileSync(schemaPath, 'utf8');
  const to = { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: current }] };
  const from = existsSync(snapshotPath)
    ? {
        tag: 'schemaDatamodel',
        files: [{ path: snapshotPath, content: readFileSync(snapshotPath, 'utf8') }],
      }
    : { tag: 'empty' };
  const sql = await withEngine(url, async (engine) => {
    const result = await engine.diff({ from, to, script: true, exitCode: null, filters });
    return result.stdout ?? '';
  });
  return !sql.trim() || sql.includes('This is an empty migration') ? '' : sql;
}

/** Writes a migration from the snapshot to the current schema; null when nothing changed. */
export async function create(url: string, name: string): Promise<string | null> {
  const sql = await pendingSchemaChanges(url);
  if (!sql) {
    return null;
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name.replace(/\W/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), sql);
  const lock = path.join(migrationsDir, 'migration_lock.toml');
  if (!existsSync(lock)) {
    writeFileSync(lock, 'provider = "postgresql"\n');
  }
  writeFileSync(snapshotPath, readFileSync(schemaPath, 'utf8'));
  return dir;
}
