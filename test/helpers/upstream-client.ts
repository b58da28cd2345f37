import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { createApiframeClient, type UpstreamLogger } from '../../src/upstream/client.ts';
import { UpstreamRequestError } from '../../src/upstream/errors.ts';
import type { GenerateRequest } from '../../src/upstream/flux.ts';
import type { UpstreamJob } from '../../src/upstream/job.ts';

// The apiframe client against the sandbox, or against throwaway servers for odd answers.

/** Every line the client logged; clear it with `logLines.length = 0`. */
export const logLines: string[] = [];
const captureLogger: UpstreamLogger = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ obj, msg })),
};

/** Clients of the file's sandbox, read through `current` (it starts in beforeAll). */
export function upstreamClients(current: () => Sandbox) {
  function client(overrides: { apiKey?: string; baseUrl?: string; timeoutMs?: number } = {}) {
    const sandbox = current();
    return createApiframeClient({
      baseUrl: overrides.baseUrl ?? sandbox.url,
      apiKey: overrides.apiKey ?? sandbox.apiKey,
      timeoutMs: overrides.timeoutMs,
      logger: captureLogger,
    });
  }

  async function untilFinal(id: string): Promise<UpstreamJob> {
    const api = client();
    for (let attempt = 0; attempt < 200; attempt++) {
      const job = await api.getJob(id);
      if (job.status === 'COMPLETED' || job.status === 'FAILED') {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`job ${id} did not finish`);
  }

  return { client, untilFinal };
}

export const body = (
  prompt: string,
  fluxParams: GenerateRequest['fluxParams'] = {},
): GenerateRequest => ({
  model: 'flux-1.1-pro',
  prompt,
  fluxParams: {
    aspect_ratio: 'custom',
    width: 256,
    height: 256,
    output_format: 'png',
    ...fluxParams,
  },
});

export async function failure(promise: Promise<unknown>): Promise<UpstreamRequestError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamRequestError);
  return error as UpstreamRequestError;
}

export type LocalServer = { url: string; close(): Promise<void>; seen: IncomingMessage[] };
const localServers: LocalServer[] = [];

/** A throwaway HTTP server on 127.0.0.1 for answers the sandbox cannot give. */
export async function localServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LocalServer> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local: LocalServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  localServers.push(local);
  return local;
}

/** Closes every server localServer started; register it with afterEach. */
export async function closeLocalServers(): Promise<void> {
  await Promise.all(localServers.splice(0).map((local) => local.close()));
}
