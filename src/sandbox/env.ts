import { z } from 'zod';
import { RESULT_SHAPES } from './faults.ts';
import type { SandboxOptions } from './server.ts';

const rate = z.coerce.number().min(0).max(1);

const envSchema = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  SANDBOX_HOST: z.string().min(1).optional(),
  SANDBOX_API_KEY: z.string().min(1).optional(),
  SANDBOX_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).optional(),
  SANDBOX_RESULT_SHAPE: z.enum(RESULT_SHAPES).optional(),
  SANDBOX_URL_TTL_S: z.coerce.number().min(0).optional(),
  SANDBOX_FAIL_RATE: rate.optional(),
  SANDBOX_NEVER_FINISH_RATE: rate.optional(),
  SANDBOX_CANCEL_RATE: rate.optional(),
  SANDBOX_DROP_WEBHOOK_RATE: rate.optional(),
  SANDBOX_DUPLICATE_WEBHOOK_RATE: rate.optional(),
  SANDBOX_WEBHOOK_DELAY_MS: z.coerce.number().int().min(0).optional(),
});

/**
 * Sandbox options from SANDBOX_* variables (empty counts as unset). Throws an Error naming
 * the first bad variable, so a start-up script can print it and stop.
 */
export function sandboxOptionsFromEnv(env: Record<string, string | undefined>): SandboxOptions {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key.startsWith('SANDBOX_') && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid ${String(issue?.path[0])}: ${issue?.message ?? 'bad value'}`);
  }
  const vars = parsed.data;
  const faults = Object.fromEntries(
    Object.entries({
      resultShape: vars.SANDBOX_RESULT_SHAPE,
      failRate: vars.SANDBOX_FAIL_RATE,
      neverFinishRate: vars.SANDBOX_NEVER_FINISH_RATE,
      cancelRate: vars.SANDBOX_CANCEL_RATE,
      dropWebhookRate: vars.SANDBOX_DROP_WEBHOOK_RATE,
      duplicateWebhookRate: vars.SANDBOX_DUPLICATE_WEBHOOK_RATE,
      webhookDelayMs: vars.SANDBOX_WEBHOOK_DELAY_MS,
    }).filter(([, value]) => value !== undefined),
  );
  const options: SandboxOptions = {
    port: vars.SANDBOX_PORT,
    host: vars.SANDBOX_HOST,
    apiKey: vars.SANDBOX_API_KEY,
    publicUrl: vars.SANDBOX_PUBLIC_URL,
    latencyMs: vars.SANDBOX_LATENCY_MS,
    urlTtlS: vars.SANDBOX_URL_TTL_S,
    faults,
  };
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as SandboxOptions;
}
