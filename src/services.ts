import type { Config } from './config.ts';
import type { GenerationEvents } from './events/generation-events.ts';
import type { Logger } from './logger.ts';
import type { Storage } from './storage/index.ts';

/** The process-wide parts that requests and jobs share (the Prisma client is src/db.ts). */
export interface Services {
  config: Config;
  storage: Storage;
  events: GenerationEvents;
  logger: Logger;
}
