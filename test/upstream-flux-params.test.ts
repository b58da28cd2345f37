import { describe, expect, it } from 'vitest';
import { renderedSize, validateGenerateRequest } from '../src/upstream/flux.ts';

describe('flux parameter rules', () => {
  const valid = { model: 'flux-1.1-pro', prompt: 'a fox' };

  it('names the offending field of a cross-field rule', () => {
    const result = validateGenerateRequest({
      ...valid,
      fluxParams: { aspect_ratio: '16:9', width: 512 },
    });
    expect(result).toEqual({
      ok: false,
      issues: [
        {
          path: ['fluxParams', 'width'],
          message: 'width and height are only allowed when aspect_ratio is "custom"',
        },
      ],
    });
    const custom = validateGenerateRequest({ ...valid, fluxParams: { aspect_ratio: 'custom' } });
    expect(custom.ok ? [] : custom.issues.map((issue) => issue.path.join('.'))).toEqual([
      'fluxParams.width',
      'fluxParams.height',
    ]);
  });

  it('bounds the seed to signed 32-bit and rejects unknown keys on the key', () => {
    const seeds = [-2_147_483_648, 2_147_483_647, 2_147_483_648, 1.5].map(
      (seed) => validateGenerateRequest({ ...valid, fluxParams: { seed } }).ok,
    );
    expect(seeds).toEqual([true, true, false, false]);
    const unknown = validateGenerateRequest({ ...valid, fluxParams: { safety_tolerance: 2 } });
    expect(unknown.ok ? [] : unknown.issues).toEqual([
      {
        path: ['fluxParams', 'safety_tolerance'],
        message: 'safety_tolerance is not an allowed field',
      },
    ]);
  });

  it.each([
    [undefined, 1024, 1024],
    ['1:1', 1024, 1024],
    ['16:9', 1376, 768],
    ['9:16', 768, 1376],
    ['21:9', 1440, 608],
    ['100:1', 1440, 256],
  ])('renders %s at %i×%i', (ratio, width, height) => {
    expect(renderedSize(ratio ? { aspect_ratio: ratio } : undefined)).toEqual({ width, height });
  });

  it('renders custom sizes as given', () => {
    expect(renderedSize({ aspect_ratio: 'custom', width: 320, height: 1440 })).toEqual({
      width: 320,
      height: 1440,
    });
  });
});
