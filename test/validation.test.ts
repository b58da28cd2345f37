import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db.ts';
import { createAccount } from './factories/account.ts';
import type { GenerateImageInput } from './gql/graphql.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { GenerateImage } from './helpers/documents.ts';
import { query } from './helpers/graphql.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const valid: GenerateImageInput = { prompt: 'a red fox in the snow' };

// Each case breaks one rule of apiframe-contract.md; the field named is the one to blame.
const cases: [string, Partial<GenerateImageInput>, string][] = [
  ['an empty prompt', { prompt: '' }, 'prompt'],
  ['a blank prompt', { prompt: '   ' }, 'prompt'],
  ['a prompt over 2000 characters', { prompt: 'x'.repeat(2001) }, 'prompt'],
  ['an unknown model', { model: 'flux-9-ultra' }, 'model'],
  ['a ratio that is not W:H', { aspectRatio: '16x9' }, 'aspectRatio'],
  ['a ratio with a zero', { aspectRatio: '0:1' }, 'aspectRatio'],
  ['a ratio with decimals', { aspectRatio: '1.5:1' }, 'aspectRatio'],
  ['width without "custom"', { aspectRatio: '16:9', width: 512 }, 'width'],
  ['height without any ratio', { height: 512 }, 'height'],
  ['"custom" without a size', { aspectRatio: 'custom' }, 'width'],
  ['"custom" without a height', { aspectRatio: 'custom', width: 512 }, 'height'],
  ['width not a multiple of 32', { aspectRatio: 'custom', width: 500, height: 512 }, 'width'],
  ['height not a multiple of 32', { aspectRatio: 'custom', width: 512, height: 520 }, 'height'],
  ['width below 256', { aspectRatio: 'custom', width: 224, height: 512 }, 'width'],
  ['height above 1440', { aspectRatio: 'custom', width: 512, height: 1472 }, 'height'],
  ['quality below 0', { outputQuality: -1 }, 'outputQuality'],
  ['quality above 100', { outputQuality: 101 }, 'outputQuality'],
  ['an imagePrompt that is not a URL', { imagePrompt: 'a picture of a cat' }, 'imagePrompt'],
  ['an imagePrompt that is not http(s)', { imagePrompt: 'ftp://example.com/a.png' }, 'imagePrompt'],
  ['an empty idempotencyKey', { idempotencyKey: '' }, 'idempotencyKey'],
  ['an idempotencyKey over 255 characters', { idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey'],
];

describe('generateImage validation', () => {
  it.each(cases)(
    'rejects %s with a ValidationError naming the field, at no cost',
    async (_name, change, field) => {
      const { account, key } = await createAccount();
      const upstreamBefore = app.sandbox.requests.length;
      const { generateImage } = await query(
        app,
        GenerateImage,
        { input: { ...valid, ...change } },
        { key },
      );
      if (generateImage.__typename !== 'ValidationError') {
        throw new Error(`expected ValidationError, got ${generateImage.__typename}`);
      }
      expect(generateImage.code).toBe('VALIDATION_FAILED');
      expect(generateImage.fieldErrors.map((e) => e.path)).toContainEqual(['input', field]);
      for (const error of generateImage.fieldErrors) {
        expect(error.message.length).toBeGreaterThan(5);
      }
      expect(app.sandbox.requests.length).toBe(upstreamBefore);
      expect(await db.generation.count({ where: { ownerId: account.id } })).toBe(0);
      const jobs = await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker._private_jobs
      WHERE payload->>'id' IN (SELECT id::text FROM "Generation" WHERE "ownerId" = ${account.id}::uuid)`;
      expect(Number(jobs[0]?.n)).toBe(0);
    },
  );

  it('reports every invalid field at once', async () => {
    const { key } = await createAccount();
    const { generateImage } = await query(
      app,
      GenerateImage,
      { input: { prompt: '', outputQuality: 500, aspectRatio: 'wide' } },
      { key },
    );
    if (generateImage.__typename !== 'ValidationError') {
      throw new Error(generateImage.__typename);
    }
    const fields = generateImage.fieldErrors.map((e) => e.path.join('.')).sort();
    expect(fields).toEqual(['input.aspectRatio', 'input.outputQuality', 'input.prompt']);
  });

  it('accepts the edges of every range', async () => {
    const { key } = await createAccount();
    const edges: Partial<GenerateImageInput>[] = [
      { aspectRatio: 'custom', width: 256, height: 1440 },
      { aspectRatio: '21:9', outputQuality: 0 },
      { outputQuality: 100, seed: 0, promptUpsampling: true },
      { prompt: 'y'.repeat(2000), imagePrompt: 'https://example.com/guide.png' },
      { idempotencyKey: 'k'.repeat(255) },
    ];
    for (const change of edges) {
      const { generateImage } = await query(
        app,
        GenerateImage,
        { input: { ...valid, ...change } },
        { key },
      );
      expect(generateImage.__typename).toBe('GenerateImageSuccess');
    }
  });

  it('keeps serving after bad input (the service stays up)', async () => {
    const { key } = await createAccount();
    await query(app, GenerateImage, { input: { prompt: '' } }, { key });
    const { generateImage } = await query(app, GenerateImage, { input: valid }, { key });
    expect(generateImage.__typename).toBe('GenerateImageSuccess');
  });
});
