import type { TestApp } from './app.ts';
import { GenerationDetail } from './documents.ts';
import { query } from './graphql.ts';

const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED'];

/** Reads the generation through the API until it is final (or the time is up). */
export async function waitForFinal(app: TestApp, id: string, key?: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { generation } = await query(app, GenerationDetail, { id }, { key });
    if (!generation) {
      throw new Error(`generation ${id} is not visible`);
    }
    if (FINAL.includes(generation.status) || Date.now() > deadline) {
      return generation;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
