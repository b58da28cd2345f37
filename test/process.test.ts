import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, freePort, killAll, startProcess } from './helpers/process.ts';

const parent = mkdtempSync(path.join(tmpdir(), 'fluxgate-fresh-'));
// The embedded PostgreSQL runs as the postgres OS user when tests run as root.
chmodSync(parent, 0o755);
afterAll(() => {
  killAll();
  rmSync(parent, { recursive: true, force: true });
});

/** What a crash printed: the lines that are not pino's JSON. */
const crashLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('{'))
    .slice(0, 25)
    .join('\n');

async function graphql(port: number, query: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    // biome-ignore lint/suspicious/noExplicitAny: ad-hoc queries over real HTTP, shapes asserted below
    body: (await response.json()) as { data?: any; errors?: unknown[] },
  };
}

describe('a fresh start: no DATABASE_URL, no APIFRAME_API_KEY', () => {
  it('comes up on embedded PostgreSQL and the sandbox, generates, drains on SIGTERM, keeps data', async () => {
    const port = await freePort();
    const env = childEnv({
      PORT: String(port),
      DATA_DIR: path.join(parent, 'data'),
      EMBEDDED_PG_PORT: String(await freePort()),
      SANDBOX_LATENCY_MS: '300',
      POLL_INITIAL_MS: '100',
      WORKER_POLL_INTERVAL_MS: '100',
    });
    const first = startProcess(['src/server.ts'], env);
    await first.waitForLog('fluxgate is ready', 60_000);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    const created = await graphql(
      port,
      'mutation { generateImage(input: { prompt: "fresh clone", outputFormat: WEBP }) { ... on GenerateImageSuccess { generation { id } } } }',
    );
    const id: string = created.body.data.generateImage.generation.id;
    let generation: { status: string; images: { url: string; sha256: string }[] } | undefined;
    for (let i = 0; i < 100; i++) {
      const read = await graphql(
        port,
        `{ generation(id: "${id}") { status images { url sha256 } } }`,
      );
      generation = read.body.data.generation;
      if (generation?.status === 'COMPLETED') {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(generation?.status).toBe('COMPLETED');
    const image = await fetch(generation?.images[0]?.url.replace('localhost', '127.0.0.1') ?? '');
    expect(image.headers.get('content-type')).toBe('image/webp');

    // A secret sent by a client never reaches the logs.
    const denied = await graphql(port, '{ viewer { id } }', {
      authorization: 'Bearer fg_not_a_real_key_123',
    });
    expect(denied.status).toBe(401);

    first.child.kill('SIGTERM');
    expect(await first.exited, crashLines(first.output())).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    expect(first.output()).not.toContain('fg_not_a_real_key_123');
    expect(first.output()).not.toContain('afk_sandbox_local');

    const second = startProcess(['src/server.ts'], env);
    await second.waitForLog('fluxgate is ready', 60_000);
    const again = await graphql(port, `{ generation(id: "${id}") { status } }`);
    expect(again.body.data.generation.status).toBe('COMPLETED');
    second.child.kill('SIGTERM');
    expect(await second.exited, crashLines(second.output())).toBe(0);
  }, 120_000);
});

describe('configuration', () => {
  it('stops with a message naming each bad variable', async () => {
    const child = startProcess(
      ['src/server.ts'],
      childEnv({ PORT: 'eighty', APIFRAME_API_KEY: 'sk_wrong_prefix', GENERATION_TIMEOUT_S: '-5' }),
    );
    expect(await child.exited).toBe(1);
    expect(child.output()).toContain('PORT');
    expect(child.output()).toContain('APIFRAME_API_KEY');
    expect(child.output()).toContain('GENERATION_TIMEOUT_S');
    expect(child.output()).not.toContain('sk_wrong_prefix');
  });
});
