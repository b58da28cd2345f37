import type { Runner } from 'graphile-worker';
import type { Config } from './config.ts';
import { closeDatabase } from './db.ts';
import { createGenerationEvents } from './events/generation-events.ts';
import type { JobServices } from './jobs/context.ts';
import { startWorker } from './jobs/worker.ts';
import { createLogger, type Logger } from './logger.ts';
import { createSandbox, type Sandbox, sandboxOptionsFromEnv } from './sandbox/index.ts';
import { createFsStorage } from './storage/index.ts';
import { createApiframeClient } from './upstream/client.ts';
import { verifyWebhookSignature } from './upstream/webhook.ts';
import { createYogaApp, type YogaApp } from './yoga.ts';

export interface App {
  yoga: YogaApp;
  services: JobServices;
  /** The built-in upstream, when no APIFRAME_API_KEY is configured. */
  sandbox: Sandbox | null;
  worker: Runner | null;
  /** Stops the worker, the sandbox and event clients; the database stays open. */
  stopBackground(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions {
  databaseUrl: string;
  logger?: Logger;
  /** false serves the API without running lifecycle jobs (tests that only read). */
  runWorker?: boolean;
}

/** Upstream can only call us back at an address it can reach: not a loopback one. */
export function webhooksEnabled(config: Config): boolean {
  if (config.WEBHOOKS !== 'auto') {
    return config.WEBHOOKS === 'on';
  }
  const host = new URL(config.PUBLIC_URL).hostname;
  return !['localhost', '127.0.0.1', '[::1]', '::1'].includes(host) && !host.endsWith('.localhost');
}

/** Wires the process: upstream (apiframe or the sandbox), storage, events, the worker, Yoga. */
export async function startApp(config: Config, options: AppOptions): Promise<App> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  let sandbox: Sandbox | null = null;
  if (!config.APIFRAME_API_KEY) {
    sandbox = await createSandbox({
      ...sandboxOptionsFromEnv(process.env),
      port: 0,
      latencyMs: config.SANDBOX_LATENCY_MS,
      logger: logger.child({ component: 'sandbox' }),
    });
    logger.info(
      { url: sandbox.url },
      'APIFRAME_API_KEY is unset: using the built-in sandbox upstream',
    );
  }
  const upstreamUrl = sandbox?.url ?? config.APIFRAME_BASE_URL;
  const upstreamKey = sandbox?.apiKey ?? config.APIFRAME_API_KEY ?? '';
  const events = createGenerationEvents(config.REDIS_URL);
  const services: JobServices = {
    config,
    logger,
    storage: createFsStorage(config.STORAGE_DIR),
    events: events.events,
    webhookUrl: webhooksEnabled(config) ? `${config.PUBLIC_URL}/webhooks/apiframe` : null,
    verifyWebhook: (rawBody, signature) => verifyWebhookSignature(rawBody, signature, upstreamKey),
    upstream: createApiframeClient({
      baseUrl: upstreamUrl,
      apiKey: upstreamKey,
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
      logger: logger.child({ component: 'upstream' }),
    }),
  };
  const worker =
    options.runWorker === false ? null : await startWorker(services, options.databaseUrl);
  const yoga = createYogaApp(services);
  let stopped: Promise<void> | undefined;
  function stopBackground() {
    // Running steps finish (graphile-worker waits for them); queued ones stay for the next start.
    stopped ??= (async () => {
      await worker?.stop();
      await sandbox?.close();
      await events.close();
    })();
    return stopped;
  }
  return {
    yoga,
    services,
    sandbox,
    worker,
    stopBackground,
    async stop() {
      await stopBackground();
      await closeDatabase();
    },
  };
}
