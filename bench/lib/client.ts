// A minimal GraphQL-over-HTTP client (no auth header: the built-in local account) and the
// statistics the benchmark reports.

export type Json = Record<string, unknown>;

export interface Api {
  query<T>(query: string, variables?: Json): Promise<T>;
}

export function createApi(port: number): Api {
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    async query<T>(query: string, variables: Json = {}): Promise<T> {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (!response.ok || body.errors || !body.data) {
        throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body).slice(0, 500)}`);
      }
      return body.data;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

/** Nearest-rank percentiles, in milliseconds rounded to 0.1. */
export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    p50: round(rank(50)),
    p95: round(rank(95)),
    max: round(sorted.at(-1) ?? 0),
    mean: round(sorted.length > 0 ? sum / sorted.length : 0),
  };
}

export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}
