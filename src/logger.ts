import pino from 'pino';

// Secrets never reach a log line: keys, auth headers and upstream keys are redacted wherever
// they appear in a logged object.
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'APIFRAME_API_KEY',
  '*.APIFRAME_API_KEY',
];

export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'fluxgate' },
    },
    destination,
  );
}

export type Logger = pino.Logger;
