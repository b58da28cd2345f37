import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resultUrls } from '../src/upstream/job.ts';
import {
  parseWebhookPayload,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_EVENT_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  webhookSigningKey,
} from '../src/upstream/webhook.ts';

const KEY = 'afk_test_0123456789';
const BODY = Buffer.from(
  JSON.stringify({ event: 'progress', jobId: 'j-1', status: 'PROCESSING', progress: 45 }),
);

function hex(signature: string): string {
  return signature.slice('sha256='.length);
}

describe('webhook signatures', () => {
  it('names its headers in lowercase, as node:http presents them', () => {
    expect([WEBHOOK_SIGNATURE_HEADER, WEBHOOK_EVENT_HEADER]).toEqual([
      'x-webhook-signature',
      'x-webhook-event',
    ]);
  });

  it('keys the HMAC with the raw 32-byte digest of the API key, not its hex text', () => {
    const key = webhookSigningKey(KEY);
    expect(key).toHaveLength(32);
    expect(key.equals(createHash('sha256').update(KEY).digest())).toBe(true);
    const withHexText = createHmac('sha256', key.toString('hex')).update(BODY).digest('hex');
    const withRawKey = createHmac('sha256', key).update(BODY).digest('hex');
    expect(hex(signWebhook(BODY, KEY))).toBe(withRawKey);
    expect(hex(signWebhook(BODY, KEY))).not.toBe(withHexText);
    expect(verifyWebhookSignature(BODY, `sha256=${withHexText}`, KEY)).toBe(false);
  });

  it('signs as sha256=<64 lowercase hex> and the same for a string or its bytes', () => {
    const signature = signWebhook(BODY, KEY);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(signWebhook(BODY.toString('utf8'), KEY)).toBe(signature);
  });

  it('verifies its own signature, with the prefix or as bare hex', () => {
    const signature = signWebhook(BODY, KEY);
    expect(verifyWebhookSignature(BODY, signature, KEY)).toBe(true);
    expect(verifyWebhookSignature(BODY, hex(signature), KEY)).toBe(true);
  });

  it('rejects another key, and a body with one byte changed', () => {
    const signature = signWebhook(BODY, KEY);
    expect(verifyWebhookSignature(BODY, signature, `${KEY}x`)).toBe(false);
    for (const index of [0, Math.floor(BODY.length / 2), BODY.length - 1]) {
      const tampered = Buffer.from(BODY);
      tampered[index] = (tampered[index] ?? 0) ^ 0x01;
      expect(verifyWebhookSignature(tampered, signature, KEY)).toBe(false);
    }
    // Re-serialising the parsed body (here: with spaces) is not the raw body.
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));
    expect(verifyWebhookSignature(reserialised, signature, KEY)).toBe(false);
  });

  it('rejects a missing, empty, short, long, non-hex or non-ASCII value without throwing', () => {
    const good = hex(signWebhook(BODY, KEY));
    const bad = [
      null,
      '',
      'sha256=',
      `sha256=${good.slice(0, 63)}`,
      `sha256=${good}0`,
      `sha256=${'z'.repeat(64)}`,
      `sha256=${good.slice(0, 62)}é`, // 64 characters, 65 bytes
      `sha1=${good}`,
      ` sha256=${good}`,
      `sha256=sha256=${good}`,
    ];
    for (const header of bad) {
      expect(verifyWebhookSignature(BODY, header, KEY), String(header)).toBe(false);
    }
  });

  it('rejects uppercase hex: apiframe sends lowercase and the check compares the text', () => {
    const good = hex(signWebhook(BODY, KEY));
    expect(/[a-f]/.test(good)).toBe(true);
    expect(verifyWebhookSignature(BODY, `sha256=${good.toUpperCase()}`, KEY)).toBe(false);
    expect(verifyWebhookSignature(BODY, `SHA256=${good}`, KEY)).toBe(false);
  });
});

describe('parseWebhookPayload', () => {
  it('reads the three documented payloads and keeps extra keys', () => {
    const completed = parseWebhookPayload({
      event: 'completed',
      jobId: 'j-1',
      status: 'COMPLETED',
      progress: 100,
      result: 'https://cdn.example/a1b2.png',
      model: 'flux-1.1-pro',
      creditCost: 10,
      completedAt: '2025-01-01T00:00:00.000Z',
      extra: { kept: true },
    });
    expect(completed).toMatchObject({ event: 'completed', creditCost: 10, extra: { kept: true } });
    expect(resultUrls(completed?.result)).toEqual(['https://cdn.example/a1b2.png']);
    const failed = parseWebhookPayload({
      event: 'failed',
      jobId: 'j-1',
      status: 'FAILED',
      error: 'Provider returned an error: nope',
      model: 'flux-1.1-pro',
    });
    expect(failed).toMatchObject({ error: 'Provider returned an error: nope' });
    expect(failed?.creditCost).toBeUndefined();
    const progress = parseWebhookPayload({
      event: 'progress',
      jobId: 'j-1',
      status: 'PROCESSING',
      progress: 45.4,
    });
    expect(progress?.progress).toBe(45);
  });

  it('reads the newer {images} result shape', () => {
    const payload = parseWebhookPayload({
      event: 'completed',
      jobId: 'j-2',
      status: 'COMPLETED',
      result: { images: ['https://cdn.example/1.png', 'https://cdn.example/2.png'] },
      completedAt: null,
      creditCost: null,
    });
    expect(resultUrls(payload?.result)).toHaveLength(2);
  });

  it('returns null for anything else', () => {
    const valid = { event: 'progress', jobId: 'j-1', status: 'PROCESSING' };
    const invalid: unknown[] = [
      null,
      'completed',
      [],
      {},
      { ...valid, event: 'started' },
      { ...valid, status: 'DONE' },
      { ...valid, jobId: '' },
      { ...valid, jobId: 7 },
      { ...valid, progress: 101 },
      { ...valid, progress: '50' },
      { ...valid, creditCost: -1 },
      { ...valid, creditCost: 1.5 },
      { ...valid, error: 42 },
      { event: 'progress', status: 'PROCESSING' },
    ];
    expect(parseWebhookPayload(valid)).not.toBeNull();
    for (const raw of invalid) {
      expect(parseWebhookPayload(raw), JSON.stringify(raw)).toBeNull();
    }
  });
});
