import { z } from 'zod';

// Every setting the service reads, parsed once at start-up. A bad value stops the process with
// a message that names the variable (see loadConfig); nothing else reads process.env for settings.

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const int = (fallback: number, min: number, max: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const url = (message: string) =>
  z.url({ protocol: /^https?$/, message }).transform((value) => value.replace(/\/+$/, ''));

const configSchema = z
  .object({
    NODE_ENV: z.preprocess(
      emptyToUndefined,
      z.enum(['development', 'production', 'test']).default('development'),
    ),
    PORT: int(4000, 0, 65535),
    HOST: z.preprocess(emptyToUndefined, z.string().min(1).default('127.0.0.1')),
    DATABASE_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. */
    DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./.data')),
    EMBEDDED_PG_PORT: int(54329, 1, 65535),
    APIFRAME_API_KEY: z.preprocess(
      emptyToUndefined,
      z.string().startsWith('afk_', 'apiframe keys start with "afk_"').optional(),
    ),
    APIFRAME_BASE_URL: z.preprocess(
      emptyToUndefined,
      url('must be an http(s) URL').default('https://api.apiframe.ai'),
    ),
    PUBLIC_URL: z.preprocess(emptyToUndefined, url('must be an http(s) URL').optional()),
    STORAGE_DIR: optionalString,
    REDIS_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// URL')
        .optional(),
    ),
    GENERATION_TIMEOUT_S: int(600, 1, 86_400),
    /** New generations one account may start per rolling minute (0 = no limit). */
    RATE_LIMIT_PER_MINUTE: int(120, 0, 100_000),
    LOG_LEVEL: z.preprocess(
      emptyToUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    /** First status poll after submit, then ×1.5 per poll up to POLL_MAX_MS. */
    POLL_INITIAL_MS: int(2000, 10, 60_000),
    POLL_MAX_MS: int(5000, 10, 300_000),
    /** Jobs one process runs at once (submits, polls, downloads). */
    WORKER_CONCURRENCY: int(8, 1, 100),
    /** How often an idle worker looks for jobs whose time has come (new jobs wake it at once). */
    WORKER_POLL_INTERVAL_MS: int(500, 20, 60_000),
    UPSTREAM_TIMEOUT_MS: int(30_000, 100, 300_000),
    /** Base of the exponential backoff (with jitter, capped at 60 s) after 5xx and network errors. */
    RETRY_BASE_MS: int(1000, 10, 60_000),
    DOWNLOAD_TIMEOUT_MS: int(60_000, 100, 600_000),
    DOWNLOAD_MAX_BYTES: int(50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    /**
     * Upstream webhooks: "auto" sends webhookUrl only when PUBLIC_URL is not a loopback address
     * (upstream could not reach it). Polling continues either way, slower with webhooks on.
     */
    WEBHOOKS: z.preprocess(emptyToUndefined, z.enum(['auto', 'on', 'off']).default('auto')),
    POLL_WITH_WEBHOOKS_MS: int(30_000, 10, 600_000),
    /** How often each process looks for work of crashed processes and orphaned generations. */
    RECOVERY_INTERVAL_MS: int(15_000, 100, 3_600_000),
    /** The built-in sandbox (used when APIFRAME_API_KEY is unset): time from submit to done. */
    SANDBOX_LATENCY_MS: int(3000, 0, 600_000),
  })
  .transform((env) => ({
    ...env,
    PUBLIC_URL: env.PUBLIC_URL ?? `http://localhost:${env.PORT}`,
    STORAGE_DIR: env.STORAGE_DIR ?? `${env.DATA_DIR}/images`,
  }));

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) {
    return result.data;
  }
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
