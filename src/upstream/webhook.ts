import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { WEBHOOK_EVENTS } from './flux.ts';
import { UPSTREAM_JOB_STATUSES, upstreamProgressSchema } from './job.ts';

/**
 * apiframe's webhooks (docs/apiframe-contract.md §6): signing, verification and the payload.
 * Shared by fluxgate's receiver and the sandbox's sender; knows nothing of GraphQL or the DB.
 */

export const WEBHOOK_SIGNATURE_HEADER = 'x-webhook-signature';
export const WEBHOOK_EVENT_HEADER = 'x-webhook-event';

const SIGNATURE_PREFIX = 'sha256=';

/** The HMAC key: the raw 32-byte SHA-256 digest of the API key (not its hex text). */
export function webhookSigningKey(apiKey: string): Buffer {
  return createHash('sha256').update(apiKey).digest();
}

function hexHmac(rawBody: Buffer | string, apiKey: string): string {
  return createHmac('sha256', webhookSigningKey(apiKey)).update(rawBody).digest('hex');
}

/** `sha256=<lowercase hex HMAC-SHA256>` over the exact body bytes. */
export function signWebhook(rawBody: Buffer | string, apiKey: string): string {
  return `${SIGNATURE_PREFIX}${hexHmac(rawBody, apiKey)}`;
}

/**
 * The contract's check: `sha256=<hex>` or bare hex, compared in constant time. The hex must be
 * lowercase, as apiframe sends it (the comparison is of the text, like the SDK's). Missing,
 * malformed or wrong-length values are false, never an exception.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | null,
  apiKey: string,
): boolean {
  if (!header) {
    return false;
  }
  const expected = Buffer.from(hexHmac(rawBody, apiKey), 'utf8');
  const got = header.startsWith(SIGNATURE_PREFIX) ? header.slice(SIGNATURE_PREFIX.length) : header;
  const gotBytes = Buffer.from(got, 'utf8');
  // Byte length, not string length: a non-ASCII header of the right length would make
  // timingSafeEqual throw.
  return gotBytes.length === expected.length && timingSafeEqual(gotBytes, expected);
}

export const webhookPayloadSchema = z.looseObject({
  event: z.enum(WEBHOOK_EVENTS),
  jobId: z.string().min(1),
  status: z.enum(UPSTREAM_JOB_STATUSES),
  progress: upstreamProgressSchema,
  // One URL string (older docs) or `{ images: [...] }` (newer): read it with resultUrls.
  result: z.unknown().optional(),
  error: z.string().nullish(),
  model: z.string().optional(),
  creditCost: z.int().min(0).nullish(),
  completedAt: z.string().nullish(),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** The payload of an already-verified body (parsed JSON), or null when it is not one. */
export function parseWebhookPayload(raw: unknown): WebhookPayload | null {
  const parsed = webhookPayloadSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
