import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../src/sandbox/index.ts';
import { download, firstUrl, request, SMALL, sandboxCalls } from './helpers/sandbox.ts';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox({ port: 0, latencyMs: 150 });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.reset();
});

const { submit, waitFor, renderOf } = sandboxCalls(() => sandbox);

describe('rendered images', () => {
  it('are deterministic for prompt+seed and differ for another seed', async () => {
    const params = { ...SMALL, seed: 42, output_format: 'png' };
    const first = await renderOf('a lighthouse at dusk', params);
    const otherSeed = await renderOf('a lighthouse at dusk', { ...params, seed: 43 });
    const otherPrompt = await renderOf('a forest at noon', params);
    // A second sandbox has its own render cache, so equal bytes mean a deterministic render.
    const fresh = await createSandbox({ port: 0, latencyMs: 0 });
    try {
      const accepted = await fetch(`${fresh.url}/v2/images/generate`, {
        method: 'POST',
        headers: { 'x-api-key': fresh.apiKey },
        body: JSON.stringify(request('a lighthouse at dusk', params)),
      });
      const { jobId } = (await accepted.json()) as { jobId: string };
      const again = await download(`${fresh.url}/files/${jobId}/0.png`);
      expect(first.status).toBe(200);
      expect(again.sha256).toBe(first.sha256);
    } finally {
      await fresh.close();
    }
    expect(otherSeed.sha256).not.toBe(first.sha256);
    expect(otherPrompt.sha256).not.toBe(first.sha256);
  });

  it('serves identical bytes on repeated downloads of one URL', async () => {
    const jobId = await submit('repeat me', { ...SMALL, output_format: 'webp', seed: 1 });
    const url = firstUrl((await waitFor(jobId, 'COMPLETED')).job);
    const [a, b] = await Promise.all([download(url), download(url)]);
    expect(a.sha256).toBe(b.sha256);
    expect(a.bytes.length).toBeGreaterThan(0);
  });

  const CONTENT_TYPES: Record<string, string> = {
    jpeg: 'image/jpeg',
    png: 'image/png',
    webp: 'image/webp',
  };
  it.each([
    [{ aspect_ratio: 'custom', width: 512, height: 768, output_format: 'jpg' }, 512, 768, 'jpeg'],
    [{ aspect_ratio: 'custom', width: 1440, height: 256, output_format: 'png' }, 1440, 256, 'png'],
    [{ aspect_ratio: '16:9', output_format: 'webp' }, 1376, 768, 'webp'],
    [{ aspect_ratio: '2:3', output_format: 'jpg' }, 832, 1248, 'jpeg'],
    [undefined, 1024, 1024, 'webp'],
  ])('match the requested size and format: %o', async (params, width, height, format) => {
    const file = await renderOf('size check', params);
    expect(file.status).toBe(200);
    expect(file.type).toBe(CONTENT_TYPES[format]);
    expect(file.length).toBe(file.bytes.length);
    const meta = await sharp(file.bytes).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([width, height, format]);
  });

  it.each(['jpg', 'webp'])('honours output_quality for %s', async (output_format) => {
    const params = { ...SMALL, seed: 5, output_format };
    const low = await renderOf('quality', { ...params, output_quality: 5 });
    const high = await renderOf('quality', { ...params, output_quality: 95 });
    expect(low.bytes.length).toBeLessThan(high.bytes.length);
  });

  it('picks and keeps a seed when none is given', async () => {
    const jobId = await submit('no seed given', { ...SMALL, output_format: 'png' });
    const picked = sandbox.jobs.get(jobId)?.seed;
    expect(Number.isInteger(picked)).toBe(true);
    const implicit = await download(firstUrl((await waitFor(jobId, 'COMPLETED')).job));
    const explicit = await renderOf('no seed given', {
      ...SMALL,
      output_format: 'png',
      seed: picked,
    });
    expect(explicit.sha256).toBe(implicit.sha256);
  });
});
