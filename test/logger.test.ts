import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

describe('logs', () => {
  it('redact keys and authorization headers wherever they appear', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        apiKey: 'afk_secret_upstream_key',
        headers: { authorization: 'Bearer fg_secret_client_key', 'x-api-key': 'afk_secret_2' },
        request: { headers: { authorization: 'Bearer fg_nested_key' } },
        config: { APIFRAME_API_KEY: 'afk_secret_from_config' },
      },
      'something happened',
    );
    const line = lines.join('');
    expect(line).toContain('something happened');
    for (const secret of [
      'afk_secret_upstream_key',
      'fg_secret_client_key',
      'afk_secret_2',
      'fg_nested_key',
      'afk_secret_from_config',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('[redacted]');
  });
});
