import { createPubSub } from 'graphql-yoga';

// Tells subscribers that a generation changed; they re-read it (owner-scoped) from the database,
// so an event carries only the id and can never leak another owner's data.
export type GenerationEvents = ReturnType<typeof createGenerationEvents>;

export function createGenerationEvents() {
  return createPubSub<{ 'generation:updated': [generationId: string, payload: { id: string }] }>();
}
