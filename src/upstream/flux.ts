import { z } from 'zod';

/**
 * The parameter rules of apiframe's image API for Flux (docs/apiframe-contract.md §2).
 * Shared by the service (validate before paying) and the sandbox (reject like upstream).
 */

export const OUTPUT_FORMATS = ['jpg', 'png', 'webp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const OUTPUT_CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

// Upstream does not document its default; Replicate's hosting of this model defaults to webp.
export const DEFAULT_OUTPUT_FORMAT: OutputFormat = 'webp';

export const WEBHOOK_EVENTS = ['progress', 'completed', 'failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const PROMPT_MAX_LENGTH = 2000;
export const URL_MAX_LENGTH = 2048;
// Signed 32-bit: the range of a GraphQL Int and a Postgres integer, so any accepted seed is storable.
export const SEED_MIN = -2_147_483_648;
export const SEED_MAX = 2_147_483_647;

export type ImageModelInfo = {
  readonly id: string;
  readonly name: string;
  readonly aspectRatios: readonly string[];
  readonly minSize: number;
  readonly maxSize: number;
  readonly sizeStep: number;
  readonly outputFormats: readonly OutputFormat[];
};

export const IMAGE_MODELS: readonly ImageModelInfo[] = [
  {
    id: 'flux-1.1-pro',
    name: 'Flux 1.1 Pro',
    aspectRatios: [
      '1:1',
      '16:9',
      '9:16',
      '4:3',
      '3:4',
      '3:2',
      '2:3',
      '21:9',
      '9:21',
      '4:5',
      '5:4',
      'custom',
    ],
    minSize: 256,
    maxSize: 1440,
    sizeStep: 32,
    outputFormats: OUTPUT_FORMATS,
  },
];

export function findImageModel(id: string): ImageModelInfo | undefined {
  return IMAGE_MODELS.find((model) => model.id === id);
}

const SIZE_MIN = 256;
const SIZE_MAX = 1440;
const SIZE_STEP = 32;
const ASPECT_RATIO_PATTERN = /^(?:[1-9]\d*:[1-9]\d*|custom)$/;

function integerField(name: string, min: number, max: number) {
  return z
    .int({ error: `${name} must be an integer` })
    .min(min, { error: `${name} must be between ${min} and ${max}` })
    .max(max, { error: `${name} must be between ${min} and ${max}` });
}

function httpUrlField(name: string) {
  return z
    .string({ error: `${name} must be a string` })
    .max(URL_MAX_LENGTH, { error: `${name} must be at most ${URL_MAX_LENGTH} characters` })
    .pipe(z.url({ protocol: /^https?$/, error: `${name} must be an absolute http(s) URL` }));
}

function sizeField(name: string) {
  return integerField(name, SIZE_MIN, SIZE_MAX).multipleOf(SIZE_STEP, {
    error: `${name} must be a multiple of ${SIZE_STEP}`,
  });
}

const fluxParamsShape = z.strictObject({
  aspect_ratio: z
    .string({ error: 'aspect_ratio must be a string' })
    .regex(ASPECT_RATIO_PATTERN, {
      error: 'aspect_ratio must be "W:H" with positive integers (e.g. "16:9") or "custom"',
    })
    .optional(),
  width: sizeField('width').optional(),
  height: sizeField('height').optional(),
  output_format: z
    .enum(OUTPUT_FORMATS, { error: `output_format must be one of ${OUTPUT_FORMATS.join(', ')}` })
    .optional(),
  output_quality: integerField('output_quality', 0, 100).optional(),
  seed: integerField('seed', SEED_MIN, SEED_MAX).optional(),
  image_prompt: httpUrlField('image_prompt').optional(),
  prompt_upsampling: z.boolean({ error: 'prompt_upsampling must be true or false' }).optional(),
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Runs even when single fields failed (`when`), so every offending field is reported at once;
// it only compares values, so a field of the wrong type cannot break it.
export const fluxParamsSchema = fluxParamsShape.superRefine(
  (params, ctx) => {
    const custom = params.aspect_ratio === 'custom';
    for (const side of ['width', 'height'] as const) {
      if (custom && params[side] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [side],
          message: `${side} is required when aspect_ratio is "custom"`,
        });
      }
      if (!custom && params[side] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [side],
          message: 'width and height are only allowed when aspect_ratio is "custom"',
        });
      }
    }
  },
  { when: (payload) => isRecord(payload.value) },
);

export const generateRequestSchema = z.strictObject(
  {
    model: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'model is required' : 'model must be a string',
      })
      .refine((id) => findImageModel(id) !== undefined, {
        error: `model must be one of: ${IMAGE_MODELS.map((model) => model.id).join(', ')}`,
      }),
    prompt: z
      .string({
        error: (issue) =>
          issue.input === undefined ? 'prompt is required' : 'prompt must be a string',
      })
      .max(PROMPT_MAX_LENGTH, { error: `prompt must be at most ${PROMPT_MAX_LENGTH} characters` })
      .refine((prompt) => prompt.trim().length > 0, { error: 'prompt must not be blank' }),
    fluxParams: fluxParamsSchema.optional(),
    webhookUrl: httpUrlField('webhookUrl').optional(),
    webhookEvents: z
      .array(
        z.enum(WEBHOOK_EVENTS, {
          error: `webhookEvents items must be one of ${WEBHOOK_EVENTS.join(', ')}`,
        }),
        { error: 'webhookEvents must be an array' },
      )
      .min(1, { error: 'webhookEvents must list at least one event' })
      .optional(),
  },
  { error: 'the request body must be a JSON object' },
);

export type FluxParams = z.infer<typeof fluxParamsSchema>;
export type GenerateRequest = z.infer<typeof generateRequestSchema>;

export type ValidationIssue = { path: (string | number)[]; message: string };
export type ValidationResult =
  | { ok: true; value: GenerateRequest }
  | { ok: false; issues: ValidationIssue[] };

export function validateGenerateRequest(body: unknown): ValidationResult {
  const parsed = generateRequestSchema.safeParse(body);
  if (parsed.success) {
    return { ok: true, value: parsed.data };
  }
  const issues: ValidationIssue[] = [];
  const reported = new Set<string>();
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((key) => typeof key !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      // One issue per unknown key, on the key itself, so callers can map it to a field.
      for (const key of issue.keys) {
        issues.push({ path: [...path, key], message: `${key} is not an allowed field` });
      }
      continue;
    }
    // The first rule a field breaks is enough ("between 256 and 1440" makes "multiple of 32" noise).
    const pathKey = JSON.stringify(path);
    if (reported.has(pathKey)) {
      continue;
    }
    reported.add(pathKey);
    const isObjectField = issue.code === 'invalid_type' && issue.expected === 'object';
    const message =
      isObjectField && path.length > 0 ? `${path.join('.')} must be an object` : issue.message;
    issues.push({ path, message });
  }
  return { ok: false, issues };
}

const ONE_MEGAPIXEL = 1024 * 1024;

function snapToStep(size: number): number {
  const snapped = Math.round(size / SIZE_STEP) * SIZE_STEP;
  return Math.min(SIZE_MAX, Math.max(SIZE_MIN, snapped));
}

/**
 * The size an accepted request is rendered at: custom → width×height; "W:H" → about one
 * megapixel at that ratio (scaled down to fit 1440 first, to keep the ratio), each side
 * snapped to a multiple of 32 and clamped to 256–1440; no ratio → 1024×1024.
 */
export function renderedSize(params: FluxParams | undefined): { width: number; height: number } {
  const ratio = params?.aspect_ratio;
  if (ratio === 'custom' && params?.width !== undefined && params.height !== undefined) {
    return { width: params.width, height: params.height };
  }
  const match = ratio ? /^(\d+):(\d+)$/.exec(ratio) : null;
  if (!match) {
    return { width: 1024, height: 1024 };
  }
  const aspect = Number(match[1]) / Number(match[2]);
  let width = Math.sqrt(ONE_MEGAPIXEL * aspect);
  let height = Math.sqrt(ONE_MEGAPIXEL / aspect);
  const overflow = Math.max(width / SIZE_MAX, height / SIZE_MAX, 1);
  width /= overflow;
  height /= overflow;
  return { width: snapToStep(width), height: snapToStep(height) };
}
