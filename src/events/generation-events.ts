import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';

// Tells subscribers that a generation changed; they re-read it (owner-scoped) from the database,
// so an event carries only the id and can never leak another owner's data. With REDIS_URL the
// events cross processes, so a subscriber on one replica hears the worker of another.

type Channels = { 'generation:updated': [generationId: string, payload: { id: string }] };

export type GenerationEvents = ReturnType<typeof createPubSub<Channels>>;

export function createGenerationEvents(redisUrl?: string): {
  events: GenerationEvents;
  close(): Promise<void>;
} {
  if (!redisUrl) {
    return { events: createPubSub<Channels>(), close: async () => {} };
  }
  const options = { lazyConnect: false, maxRetriesPerRequest: 3 };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
  return {
    events: createPubSub<Channels>({ eventTarget }),
    async close() {
      await Promise.all([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
