import { expect } from 'vitest';
import type { TestApp } from './app.ts';

export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Runs a subscription over Server-Sent Events (GraphQL over SSE, as a browser's EventSource
 * client would) and reads the stream until the server completes it or the time is up.
 */
export async function subscribeOverSse(
  app: Pick<TestApp, 'yoga'>,
  query: string,
  variables: Record<string, unknown>,
  key: string,
  timeoutMs = 15_000,
): Promise<SseEvent[]> {
  const response = await app.yoga.fetch('http://fluxgate.test/graphql', {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body?.getReader();
  if (!reader) {
    throw new Error('no response body');
  }
  const decoder = new TextDecoder();
  const timeout = setTimeout(() => void reader.cancel(), timeoutMs);
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      text += decoder.decode(value, { stream: true });
      if (/^event: complete$/m.test(text)) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    clearTimeout(timeout);
  }
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line && !line.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const field = (name: string) =>
        lines
          .find((line) => line.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      const data = field('data');
      return { event: field('event') ?? 'message', data: data ? JSON.parse(data) : null };
    });
}

/** The `data` payloads of the `next` events, typed by the caller. */
export const nextPayloads = <T>(events: SseEvent[]) =>
  events.filter((e) => e.event === 'next').map((e) => e.data as T);
