import { createServer } from 'node:http';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { prepareDatabase } from './database.ts';
import { createLogger } from './logger.ts';

// Start-up order: configuration, database (embedded unless DATABASE_URL), migrations, then the
// app. The app is imported only once DATABASE_URL is known, because src/db.ts reads it on import.

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

const started = performance.now();
const config = readConfig();
const logger = createLogger(config.LOG_LEVEL);

const database = await prepareDatabase(config, (msg, data) => logger.info(data ?? {}, msg));
const databaseUrl = database.url;

const { startApp } = await import('./app.ts');
const app = await startApp(config, { databaseUrl, logger });
const server = createServer(app.yoga);
server.listen(config.PORT, config.HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info(
    {
      url: `http://${config.HOST}:${port}/graphql`,
      readyMs: Math.round(performance.now() - started),
    },
    'fluxgate is ready',
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) {
    return;
  }
  stopping = true;
  logger.info({ signal }, 'draining');
  // Stop taking requests, let in-flight ones and running job steps finish, then close the DB.
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.stop();
  await database.stop();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
