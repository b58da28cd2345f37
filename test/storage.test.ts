import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFsStorage,
  DownloadError,
  type DownloadErrorCode,
  downloadImage,
  type Storage,
  StorageKeyError,
  StorageLimitError,
} from '../src/storage/index.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

/** Every file under `dir`, dot-files (temp files) included. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

async function* chunksOf(
  data: Uint8Array,
  size: number,
  pause = false,
): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += size) {
    if (pause) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    yield data.subarray(offset, offset + size);
  }
}

let root: string;
let storage: Storage;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'fluxgate-storage-'));
  storage = createFsStorage(path.join(root, 'images')); // does not exist yet: created on demand
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fs storage', () => {
  it('round-trips put, stat, read, range read and delete', async () => {
    const data = randomBytes(200_000);
    const result = await storage.put('gen_1/0.png', chunksOf(data, 16_384));
    expect(result).toEqual({ byteSize: data.byteLength, sha256: sha256(data) });
    expect(await storage.stat('gen_1/0.png')).toEqual({ byteSize: data.byteLength });

    expect((await readAll(storage.read('gen_1/0.png'))).equals(data)).toBe(true);
    const slice = await readAll(storage.read('gen_1/0.png', { start: 1000, end: 70_000 }));
    expect(slice.equals(data.subarray(1000, 70_001))).toBe(true);
    const localPath = storage.localPath?.('gen_1/0.png') ?? '';
    expect(localPath).toBe(path.join(root, 'images', 'gen_1', '0.png'));
    expect(sha256(await readFile(localPath))).toBe(result.sha256);

    await storage.delete('gen_1/0.png');
    expect(await storage.stat('gen_1/0.png')).toBeNull();
    await expect(storage.delete('gen_1/0.png')).resolves.toBeUndefined();
    await expect(readAll(storage.read('gen_1/0.png'))).rejects.toThrow(/ENOENT/);
  });

  it('accepts a web ReadableStream body', async () => {
    const data = randomBytes(50_000);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= data.byteLength) {
          controller.close();
        } else {
          controller.enqueue(data.subarray(offset, offset + 7000));
          offset += 7000;
        }
      },
    });
    const result = await storage.put('gen_2/1.webp', body);
    expect(result.sha256).toBe(sha256(data));
    expect((await readAll(storage.read('gen_2/1.webp'))).equals(data)).toBe(true);
  });

  it('rejects a body over maxBytes, leaves no file and stops reading the source', async () => {
    let sourceClosed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; i < 100; i += 1) {
          yield new Uint8Array(600);
        }
      } finally {
        sourceClosed = true;
      }
    }
    const error = await storage.put('gen_3/0.png', source(), { maxBytes: 1000 }).catch((e) => e);
    expect(error).toBeInstanceOf(StorageLimitError);
    expect(error.maxBytes).toBe(1000);
    expect(sourceClosed).toBe(true);
    expect(await storage.stat('gen_3/0.png')).toBeNull();
    expect(await listFiles(root)).toEqual([]);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const result = await storage.put('gen_3/1.png', chunksOf(new Uint8Array(1000), 300), {
      maxBytes: 1000,
    });
    expect(result.byteSize).toBe(1000);
  });

  it('removes the temp file when the source fails midway', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('source broke');
    }
    await expect(storage.put('gen_4/0.png', failing())).rejects.toThrow('source broke');
    expect(await listFiles(root)).toEqual([]);
  });

  it.each([
    '../escape.png',
    'gen/../../escape.png',
    '/etc/passwd',
    'gen//0.png',
    'gen/./0.png',
    '.hidden',
    'gen\\..\\0.png',
    '',
  ])('rejects the key %j', async (key) => {
    const empty = chunksOf(new Uint8Array(0), 1);
    await expect(storage.put(key, empty)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(storage.stat(key)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(storage.delete(key)).rejects.toBeInstanceOf(StorageKeyError);
    expect(() => storage.read(key)).toThrow(StorageKeyError);
    expect(await readdir(root)).toEqual([]); // not even the storage root was created
  });

  it('ends concurrent puts of one key with one complete object', async () => {
    const a = Buffer.alloc(300_000, 'a');
    const b = Buffer.alloc(300_000, 'b');
    const results = await Promise.all([
      storage.put('gen_5/0.png', chunksOf(a, 10_000, true)),
      storage.put('gen_5/0.png', chunksOf(b, 10_000, true)),
    ]);
    const stored = await readAll(storage.read('gen_5/0.png'));
    expect(stored.equals(a) || stored.equals(b)).toBe(true);
    expect(results.map((r) => r.sha256)).toContain(sha256(stored));
    expect(await listFiles(root)).toEqual(['0.png']);
  });
});

// --- downloadImage against a real local HTTP server -------------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const images = {
  png: { width: 64, height: 48, bytes: Buffer.alloc(0) },
  jpeg: { width: 120, height: 80, bytes: Buffer.alloc(0) },
  webp: { width: 33, height: 21, bytes: Buffer.alloc(0) },
};

function serve(type: string | null, body: Uint8Array): Handler {
  return (_req, res) => {
    res.writeHead(200, type === null ? {} : { 'content-type': type });
    res.end(body);
  };
}

let chunkedWrites = 0; // how many 64 KiB chunks /big-chunked wrote before the client left

const routes: Record<string, Handler> = {
  '/img.png': (req, res) => serve('image/png', images.png.bytes)(req, res),
  '/img.jpg': (req, res) => serve('image/jpeg; charset=binary', images.jpeg.bytes)(req, res),
  '/img.webp': (req, res) => serve('image/webp', images.webp.bytes)(req, res),
  '/gone': (_req, res) => res.writeHead(404).end('not here'),
  '/expired': (_req, res) => res.writeHead(410).end(),
  '/broken': (_req, res) => res.writeHead(500).end('oops'),
  '/forbidden': (_req, res) => res.writeHead(403).end(),
  '/slow-body': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    const timer = setInterval(() => res.write(new Uint8Array(1)), 50);
    res.on('close', () => clearInterval(timer));
  },
  '/slow-headers': (req, res) => {
    const timer = setTimeout(() => serve('image/png', images.png.bytes)(req, res), 5000);
    res.on('close', () => clearTimeout(timer));
  },
  '/big-declared': (_req, res) => {
    // Declares far more than the cap, then stalls: only the header check can fail this fast.
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': 5_000_000 });
    res.write(new Uint8Array(100));
  },
  '/big-chunked': async (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' }); // no content-length: chunked
    chunkedWrites = 0;
    for (; chunkedWrites < 40 && !res.destroyed; chunkedWrites += 1) {
      res.write(new Uint8Array(64 * 1024));
      await sleep(2);
    }
    res.end();
  },
  '/cut-off': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': 10_000 });
    res.write(images.png.bytes.subarray(0, 100));
    setTimeout(() => res.socket?.destroy(), 20);
  },
  '/page.html': (req, res) => serve('text/html', Buffer.from('<html></html>'))(req, res),
  '/untyped': (req, res) => serve(null, images.png.bytes)(req, res),
  '/junk.png': (req, res) => serve('image/png', randomBytes(2000))(req, res),
  '/png-as-jpeg': (req, res) => serve('image/jpeg', images.png.bytes)(req, res),
};

let server: Server;
let base: string;

beforeAll(async () => {
  const blank = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } });
  images.png.bytes = await blank(images.png.width, images.png.height).png().toBuffer();
  images.jpeg.bytes = await blank(images.jpeg.width, images.jpeg.height).jpeg().toBuffer();
  images.webp.bytes = await blank(images.webp.width, images.webp.height).webp().toBuffer();

  server = createServer((req, res) => {
    const handler = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (handler) {
      handler(req, res);
    } else {
      res.writeHead(599).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const download = (route: string, overrides: { timeoutMs?: number; maxBytes?: number } = {}) =>
  downloadImage({
    url: `${base}${route}`,
    storage,
    key: 'gen_9/0.img',
    timeoutMs: 2000,
    maxBytes: 1_000_000,
    ...overrides,
  });

async function expectFailure(
  promise: Promise<unknown>,
  code: DownloadErrorCode,
  retryable: boolean,
): Promise<DownloadError> {
  const error = await promise.then(
    () => expect.fail('expected the download to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  expect(error).toMatchObject({ code, retryable });
  expect(await listFiles(root)).toEqual([]); // nothing stored, no temp file left
  return error as DownloadError;
}

describe('downloadImage', () => {
  it.each([
    ['/img.png', 'png', 'PNG', 'image/png'],
    ['/img.jpg', 'jpeg', 'JPG', 'image/jpeg'],
    ['/img.webp', 'webp', 'WEBP', 'image/webp'],
  ] as const)(
    'stores %s with its digest, size, format and dimensions',
    async (route, kind, format, type) => {
      const source = images[kind];
      const stored = await download(route);
      expect(stored).toEqual({
        storageKey: 'gen_9/0.img',
        byteSize: source.bytes.byteLength,
        sha256: sha256(source.bytes),
        contentType: type,
        format,
        width: source.width,
        height: source.height,
      });
      const bytes = await readAll(storage.read('gen_9/0.img'));
      expect(sha256(bytes)).toBe(sha256(source.bytes));
    },
  );

  it('reads metadata through the stream when the backend has no local path', async () => {
    const { localPath: _unused, ...streamOnly } = storage;
    const stored = await downloadImage({
      url: `${base}/img.webp`,
      storage: streamOnly,
      key: 'gen_9/1.webp',
      timeoutMs: 2000,
      maxBytes: 1_000_000,
    });
    expect(stored).toMatchObject({ format: 'WEBP', width: 33, height: 21 });
  });

  it('maps 404 and 410 to SOURCE_NOT_FOUND and keeps query strings out of the message', async () => {
    const error = await expectFailure(
      download('/gone?X-Signature=topsecret'),
      'SOURCE_NOT_FOUND',
      false,
    );
    expect(error.status).toBe(404);
    expect(error.message).toContain(`${base}/gone`);
    expect(error.message).not.toContain('topsecret');
    await expectFailure(download('/expired'), 'SOURCE_NOT_FOUND', false);
  });

  it('maps 5xx to a retryable SOURCE_HTTP_ERROR and other statuses to a final one', async () => {
    expect((await expectFailure(download('/broken'), 'SOURCE_HTTP_ERROR', true)).status).toBe(500);
    expect((await expectFailure(download('/forbidden'), 'SOURCE_HTTP_ERROR', false)).status).toBe(
      403,
    );
  });

  it('times out a body that trickles in, and headers that never come', async () => {
    const started = Date.now();
    await expectFailure(download('/slow-body', { timeoutMs: 300 }), 'SOURCE_TIMEOUT', true);
    await expectFailure(download('/slow-headers', { timeoutMs: 300 }), 'SOURCE_TIMEOUT', true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects a declared Content-Length over the cap before reading', async () => {
    await expectFailure(download('/big-declared', { maxBytes: 1000 }), 'SOURCE_TOO_LARGE', false);
  });

  it('aborts a chunked body once it passes the cap', async () => {
    await expectFailure(download('/big-chunked', { maxBytes: 100_000 }), 'SOURCE_TOO_LARGE', false);
    await sleep(50);
    expect(chunkedWrites).toBeLessThan(40); // the client hung up instead of draining the body
  });

  it('maps a connection cut mid-body or refused to a retryable SOURCE_NETWORK', async () => {
    await expectFailure(download('/cut-off'), 'SOURCE_NETWORK', true);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = downloadImage({
      url: `http://127.0.0.1:${port}/img.png`,
      storage,
      key: 'gen_9/0.img',
      timeoutMs: 2000,
      maxBytes: 1000,
    });
    await expectFailure(refused, 'SOURCE_NETWORK', true);
  });

  it('rejects content types other than jpeg, png and webp', async () => {
    await expectFailure(download('/page.html'), 'SOURCE_BAD_TYPE', false);
    await expectFailure(download('/untyped'), 'SOURCE_BAD_TYPE', false);
  });

  it('rejects bytes that are not an image, or not the declared format', async () => {
    await expectFailure(download('/junk.png'), 'SOURCE_CORRUPT', false);
    await expectFailure(download('/png-as-jpeg'), 'SOURCE_CORRUPT', false);
  });

  it('rejects URLs that are not http(s) without echoing them', async () => {
    const attempt = (url: string) =>
      downloadImage({ url, storage, key: 'gen_9/0.img', timeoutMs: 100, maxBytes: 1 });
    await expectFailure(attempt('file:///etc/passwd'), 'SOURCE_BAD_URL', false);
    const error = await expectFailure(attempt('not a url?token=secret'), 'SOURCE_BAD_URL', false);
    expect(error.message).not.toContain('secret');
  });
});
