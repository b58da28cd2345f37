import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from './factories/account.ts';
import { generateRequests, startTestApp, TEST_PUBLIC_URL, type TestApp } from './helpers/app.ts';
import { GenerateImage } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';
import { waitForFinal } from './helpers/wait.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

async function fetchImage(url: string, headers: Record<string, string> = {}) {
  expect(url.startsWith(`${TEST_PUBLIC_URL}/images/`)).toBe(true);
  return app.yoga.fetch(url, { headers });
}

describe('generateImage → COMPLETED → stored image', () => {
  it('stores the image with matching bytes, and sent exactly the snake_case body', async () => {
    const { key } = await createAccount();
    const input = {
      prompt: 'a lighthouse at dusk',
      aspectRatio: 'custom',
      width: 512,
      height: 384,
      outputFormat: 'PNG' as const,
      seed: 42,
      promptUpsampling: false,
    };
    const before = generateRequests(app).length;
    const result = await query(app, GenerateImage, { input }, { key });
    const created = result.generateImage;
    if (created.__typename !== 'GenerateImageSuccess') {
      throw new Error(`expected success, got ${created.__typename}`);
    }
    expect(created.generation.status).toBe('PENDING');

    const generation = await waitForFinal(app, created.generation.id, key);
    expect(generation.status).toBe('COMPLETED');
    expect(generation.upstreamJobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(generation.creditCost).toBeGreaterThan(0);
    expect(generation.completedAt).not.toBeNull();
    expect(generation.images).toHaveLength(1);

    const sent = generateRequests(app).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toEqual({
      model: 'flux-1.1-pro',
      prompt: 'a lighthouse at dusk',
      fluxParams: {
        aspect_ratio: 'custom',
        width: 512,
        height: 384,
        output_format: 'png',
        seed: 42,
        prompt_upsampling: false,
      },
    });
    expect(sent[0]?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[0]?.hasApiKey).toBe(true);

    const image = generation.images[0];
    if (!image) {
      throw new Error('no image');
    }
    const response = await fetchImage(image.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('etag')).toBe(`"${image.sha256}"`);
    expect(response.headers.get('cache-control')).toContain('immutable');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(image.sha256);
    expect(bytes.length).toBe(image.byteSize);
    const metadata = await sharp(bytes).metadata();
    expect(metadata).toMatchObject({ format: 'png', width: 512, height: 384 });
    expect(image).toMatchObject({
      format: 'PNG',
      width: 512,
      height: 384,
      contentType: 'image/png',
    });
    expect(image.sourceUrl).toContain(app.sandbox.url);
  });

  it('serves byte ranges and answers a matching If-None-Match with 304', async () => {
    const { key } = await createAccount();
    const result = await query(
      app,
      GenerateImage,
      { input: { prompt: 'ranges', outputFormat: 'JPG' as const } },
      { key },
    );
    if (result.generateImage.__typename !== 'GenerateImageSuccess') {
      throw new Error(result.generateImage.__typename);
    }
    const generation = await waitForFinal(app, result.generateImage.generation.id, key);
    const image = generation.images[0];
    if (!image) {
      throw new Error('no image');
    }
    const whole = Buffer.from(await (await fetchImage(image.url)).arrayBuffer());
    const partial = await fetchImage(image.url, { range: 'bytes=10-99' });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 10-99/${image.byteSize}`);
    expect(Buffer.from(await partial.arrayBuffer()).equals(whole.subarray(10, 100))).toBe(true);
    const cached = await fetchImage(image.url, { 'if-none-match': `"${image.sha256}"` });
    expect(cached.status).toBe(304);
    expect((await sharp(whole).metadata()).format).toBe('jpeg');
  });

  it('answers 404 for an unknown image id', async () => {
    const response = await app.yoga.fetch(
      `${TEST_PUBLIC_URL}/images/00000000-0000-4000-8000-000000000000`,
    );
    expect(response.status).toBe(404);
    const garbage = await app.yoga.fetch(`${TEST_PUBLIC_URL}/images/not-a-uuid`);
    expect(garbage.status).toBe(404);
  });

  it('serves /healthz and /readyz', async () => {
    const health = await app.yoga.fetch(`${TEST_PUBLIC_URL}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await app.yoga.fetch(`${TEST_PUBLIC_URL}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});
