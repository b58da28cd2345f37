import pino from 'pino';
import { sandboxOptionsFromEnv } from './env.ts';
import { createSandbox } from './server.ts';

// `npm run sandbox`: the apiframe sandbox on its own, e.g. to point a local service at it.
const logger = pino({ name: 'apiframe-sandbox', level: process.env.LOG_LEVEL ?? 'info' });

let options: ReturnType<typeof sandboxOptionsFromEnv>;
try {
  options = sandboxOptionsFromEnv(process.env);
} catch (error) {
  logger.fatal((error as Error).message);
  process.exit(1);
}

const sandbox = await createSandbox({ port: 4010, ...options, logger });
logger.info(
  { url: sandbox.url, apiKey: sandbox.apiKey, faults: sandbox.faults },
  `apiframe sandbox: APIFRAME_BASE_URL=${sandbox.url} APIFRAME_API_KEY=${sandbox.apiKey}`,
);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) {
      return;
    }
    closing = true;
    logger.info({ signal }, 'apiframe sandbox stopping');
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'apiframe sandbox did not close cleanly');
        process.exit(1);
      },
    );
  });
}
