import { createHash } from 'node:crypto';
import {
  type FluxParams,
  type GenerateRequest,
  validateGenerateRequest,
} from '../upstream/flux.ts';
import { type FieldError, ValidationError } from './errors.ts';

export type ImageFormatName = 'JPG' | 'PNG' | 'WEBP';

/** What a client may ask for, as the GraphQL input carries it (null = not set). */
export interface GenerateImageArgs {
  prompt: string;
  model?: string | null;
  aspectRatio?: string | null;
  width?: number | null;
  height?: number | null;
  outputFormat?: ImageFormatName | null;
  outputQuality?: number | null;
  seed?: number | null;
  imagePrompt?: string | null;
  promptUpsampling?: boolean | null;
  idempotencyKey?: string | null;
}

export const DEFAULT_MODEL = 'flux-1.1-pro';

// GraphQL input name ↔ apiframe's snake_case fluxParams key; the whitelist of what is ever sent.
const FLUX_PARAM_KEYS = {
  aspectRatio: 'aspect_ratio',
  width: 'width',
  height: 'height',
  outputFormat: 'output_format',
  outputQuality: 'output_quality',
  seed: 'seed',
  imagePrompt: 'image_prompt',
  promptUpsampling: 'prompt_upsampling',
} as const satisfies Record<string, keyof FluxParams>;

type InputParamName = keyof typeof FLUX_PARAM_KEYS;
const INPUT_NAME_BY_KEY = new Map<string, string>(
  Object.entries(FLUX_PARAM_KEYS).map(([input, key]) => [key, input]),
);

/** The upstream body holding exactly the fields the user set; throws ValidationError. */
export function buildGenerateRequest(args: GenerateImageArgs): GenerateRequest {
  const fluxParams: Record<string, unknown> = {};
  for (const [inputName, key] of Object.entries(FLUX_PARAM_KEYS)) {
    const value = args[inputName as InputParamName];
    if (value !== null && value !== undefined) {
      fluxParams[key] = inputName === 'outputFormat' ? String(value).toLowerCase() : value;
    }
  }
  const body = {
    model: args.model ?? DEFAULT_MODEL,
    prompt: args.prompt,
    ...(Object.keys(fluxParams).length > 0 ? { fluxParams } : {}),
  };
  const fieldErrors: FieldError[] = [];
  const key = args.idempotencyKey;
  if (key !== null && key !== undefined && (key.length < 1 || key.length > 255)) {
    fieldErrors.push({
      path: ['input', 'idempotencyKey'],
      message: 'must be 1 to 255 characters long',
    });
  }
  const result = validateGenerateRequest(body);
  if (!result.ok) {
    for (const issue of result.issues) {
      fieldErrors.push({ path: inputPath(issue.path), message: issue.message });
    }
  }
  if (fieldErrors.length > 0 || !result.ok) {
    throw new ValidationError(fieldErrors);
  }
  return result.value;
}

function inputPath(path: (string | number)[]): string[] {
  const [head, key] = path;
  if (head === 'fluxParams' && typeof key === 'string') {
    return ['input', INPUT_NAME_BY_KEY.get(key) ?? key];
  }
  return ['input', ...path.map(String)];
}

/** Same request ⇔ same fingerprint: decides whether an idempotencyKey replay matches. */
export function requestFingerprint(request: GenerateRequest): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
