import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStoredImage } from '../src/http/images.ts';
import { createFsStorage, type Storage } from '../src/storage/index.ts';

const SIZE = 4096;
const bytes = randomBytes(SIZE);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const image = { storageKey: 'gen_1/0.png', contentType: 'image/png', byteSize: SIZE, sha256 };
const etag = `"${sha256}"`;

let root: string;
let storage: Storage;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'fluxgate-route-'));
  storage = createFsStorage(root);
  async function* source(): AsyncGenerator<Uint8Array> {
    yield bytes;
  }
  await storage.put(image.storageKey, source());
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function get(headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  const request = new Request('http://fluxgate.test/images/1', { method, headers });
  return serveStoredImage(request, image, storage);
}

async function body(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe('serveStoredImage', () => {
  it('serves the whole image with caching headers', async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(SIZE),
      etag,
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
    });
    expect((await body(response)).equals(bytes)).toBe(true);
  });

  it.each([etag, `W/${etag}`, `"other", ${etag}`, '*'])(
    'answers 304 with no body for If-None-Match %s',
    async (ifNoneMatch) => {
      const response = await get({ 'if-none-match': ifNoneMatch });
      expect(response.status).toBe(304);
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.body).toBeNull();
    },
  );

  it('serves 200 when If-None-Match does not match', async () => {
    const response = await get({ 'if-none-match': '"stale"' });
    expect(response.status).toBe(200);
    expect((await body(response)).byteLength).toBe(SIZE);
  });

  it.each([
    ['bytes=10-19', 10, 19],
    ['bytes=4000-', 4000, SIZE - 1],
    ['bytes=-100', SIZE - 100, SIZE - 1],
    ['bytes=0-0', 0, 0],
    ['bytes=4090-999999', 4090, SIZE - 1], // end clamped to the last byte
    ['bytes=-999999', 0, SIZE - 1], // suffix longer than the file: all of it
    ['Bytes = 5 - 9', 5, 9],
  ])('answers %s with 206 and exactly bytes %i-%i', async (range, start, end) => {
    const response = await get({ range });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(response.headers.get('content-length')).toBe(String(end - start + 1));
    expect(response.headers.get('etag')).toBe(etag);
    expect((await body(response)).equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  it.each(['bytes=4096-', 'bytes=5000-6000', 'bytes=-0'])(
    'answers the unsatisfiable %s with 416',
    async (range) => {
      const response = await get({ range });
      expect(response.status).toBe(416);
      expect(response.headers.get('content-range')).toBe(`bytes */${SIZE}`);
      expect((await body(response)).byteLength).toBe(0);
    },
  );

  it.each(['bytes=0-1,5-6', 'bytes=20-10', 'items=0-5', 'bytes=x-y'])(
    'serves the whole image for the multiple or invalid range %s',
    async (range) => {
      const response = await get({ range });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-range')).toBeNull();
      expect((await body(response)).equals(bytes)).toBe(true);
    },
  );

  it('honours If-Range only when it names the current ETag', async () => {
    const matching = await get({ range: 'bytes=0-9', 'if-range': etag });
    expect(matching.status).toBe(206);
    expect((await body(matching)).equals(bytes.subarray(0, 10))).toBe(true);
    for (const ifRange of ['"stale"', `W/${etag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const response = await get({ range: 'bytes=0-9', 'if-range': ifRange });
      expect(response.status).toBe(200);
      expect((await body(response)).byteLength).toBe(SIZE);
    }
  });

  it('answers HEAD with the headers and no body, ignoring Range', async () => {
    const response = await get({ range: 'bytes=0-9' }, 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(SIZE));
    expect(response.headers.get('etag')).toBe(etag);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.body).toBeNull();
  });

  it('answers 404 when the bytes are missing from storage', async () => {
    const request = new Request('http://fluxgate.test/images/2');
    const missing = { ...image, storageKey: 'gen_1/missing.png' };
    const response = await serveStoredImage(request, missing, storage);
    expect(response.status).toBe(404);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 405 to other methods', async () => {
    const response = await get({}, 'DELETE');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});
