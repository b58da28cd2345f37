import sharp, { type Metadata } from 'sharp';
import { iterateBody, type Storage, type StorageBody, StorageLimitError } from './storage.ts';

// Each image passes through sharp once: libvips' operation cache would only hold memory.
sharp.cache(false);

export type ImageFormat = 'JPG' | 'PNG' | 'WEBP';

export interface StoredImage {
  storageKey: string;
  byteSize: number;
  /** Lowercase hex sha256 of the stored bytes. */
  sha256: string;
  contentType: string;
  format: ImageFormat;
  width: number;
  height: number;
}

export type DownloadErrorCode =
  | 'SOURCE_BAD_URL'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_HTTP_ERROR'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_NETWORK'
  | 'SOURCE_TOO_LARGE'
  | 'SOURCE_BAD_TYPE'
  | 'SOURCE_CORRUPT';

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  readonly code: DownloadErrorCode;
  /** True when trying the same URL again later may succeed. */
  readonly retryable: boolean;
  /** The HTTP status, for the SOURCE_NOT_FOUND and SOURCE_HTTP_ERROR codes. */
  readonly status: number | undefined;

  constructor(
    code: DownloadErrorCode,
    message: string,
    opts: { retryable: boolean; status?: number; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable;
    this.status = opts.status;
  }
}

export interface DownloadImageOptions {
  url: string;
  storage: Storage;
  key: string;
  /** Covers the whole transfer: connect, headers and body. */
  timeoutMs: number;
  maxBytes: number;
}

// Maps, not object literals: a header value like `constructor` must not hit Object.prototype.
const FORMATS_BY_TYPE = new Map<string, { format: ImageFormat; contentType: string }>([
  ['image/jpeg', { format: 'JPG', contentType: 'image/jpeg' }],
  ['image/jpg', { format: 'JPG', contentType: 'image/jpeg' }], // non-standard, but seen in the wild
  ['image/png', { format: 'PNG', contentType: 'image/png' }],
  ['image/webp', { format: 'WEBP', contentType: 'image/webp' }],
]);

const SHARP_FORMATS = new Map<string, ImageFormat>([
  ['jpeg', 'JPG'],
  ['png', 'PNG'],
  ['webp', 'WEBP'],
]);

/** Origin and path only: query strings and fragments may carry signatures, userinfo secrets. */
export function redactUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/**
 * Downloads an image into `storage` under `key`, streaming (never holding the whole body in
 * memory), then checks it with sharp. On any failure nothing is left stored under `key`, and the
 * error is a `DownloadError` unless it came from the storage backend itself.
 */
export async function downloadImage(opts: DownloadImageOptions): Promise<StoredImage> {
  const { storage, key, timeoutMs, maxBytes } = opts;
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new DownloadError('SOURCE_BAD_URL', 'image URL is not a valid URL', { retryable: false });
  }
  const where = redactUrl(url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DownloadError('SOURCE_BAD_URL', `image URL ${where} is not http(s)`, {
      retryable: false,
    });
  }

  const signal = AbortSignal.timeout(timeoutMs);
  const transportError = (error: unknown, stage: string): DownloadError =>
    signal.aborted
      ? new DownloadError('SOURCE_TIMEOUT', `${stage} ${where} timed out after ${timeoutMs} ms`, {
          retryable: true,
        })
      : new DownloadError('SOURCE_NETWORK', `${stage} ${where} failed: ${describeCause(error)}`, {
          retryable: true,
          cause: error,
        });

  let response: Response;
  try {
    response = await fetch(url, {
      signal,
      headers: { accept: 'image/webp,image/png,image/jpeg' },
    });
  } catch (error) {
    throw transportError(error, 'request to');
  }

  const reject = async (error: DownloadError): Promise<never> => {
    await response.body?.cancel().catch(() => {});
    throw error;
  };

  if (!response.ok) {
    const { status } = response;
    const message = `GET ${where} answered HTTP ${status}`;
    if (status === 404 || status === 410) {
      return reject(new DownloadError('SOURCE_NOT_FOUND', message, { retryable: false, status }));
    }
    // 408 and 429 are transient by definition, like 5xx.
    const retryable = status >= 500 || status === 408 || status === 429;
    return reject(new DownloadError('SOURCE_HTTP_ERROR', message, { retryable, status }));
  }

  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const declared = FORMATS_BY_TYPE.get(mediaType);
  if (!declared) {
    return reject(
      new DownloadError(
        'SOURCE_BAD_TYPE',
        `${where} has content type "${mediaType.slice(0, 100)}"`,
        {
          retryable: false,
        },
      ),
    );
  }

  const declaredLength = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declaredLength > maxBytes) {
    return reject(tooLarge(where, maxBytes));
  }

  let stored: { byteSize: number; sha256: string };
  try {
    stored = await storage.put(key, tagSourceErrors(response.body ?? emptyBody()), { maxBytes });
  } catch (error) {
    if (error instanceof StorageLimitError) {
      throw tooLarge(where, maxBytes);
    }
    if (error instanceof SourceReadError) {
      throw transportError(error.cause, 'reading');
    }
    throw error; // the storage backend failed: not the source's fault
  }

  try {
    const meta = await readMetadata(storage, key);
    const detected = SHARP_FORMATS.get(meta.format ?? '');
    if (detected !== declared.format || !meta.width || !meta.height) {
      throw new Error(`sharp sees ${meta.format ?? 'unknown'} ${meta.width}x${meta.height}`);
    }
    return {
      storageKey: key,
      byteSize: stored.byteSize,
      sha256: stored.sha256,
      contentType: declared.contentType,
      format: detected,
      width: meta.width,
      height: meta.height,
    };
  } catch (error) {
    await storage.delete(key);
    throw new DownloadError(
      'SOURCE_CORRUPT',
      `${where} is not a readable ${declared.format} image (${describeCause(error)})`,
      { retryable: false, cause: error },
    );
  }
}

function tooLarge(where: string, maxBytes: number): DownloadError {
  return new DownloadError('SOURCE_TOO_LARGE', `${where} is larger than ${maxBytes} bytes`, {
    retryable: false,
  });
}

async function readMetadata(storage: Storage, key: string): Promise<Metadata> {
  const file = storage.localPath?.(key);
  if (file !== undefined) {
    return sharp(file).metadata();
  }
  // sharp buffers stream input anyway; without a local file this costs at most `maxBytes`.
  const chunks: Uint8Array[] = [];
  for await (const chunk of iterateBody(storage.read(key))) {
    chunks.push(chunk);
  }
  return sharp(Buffer.concat(chunks)).metadata();
}

/** Marks errors thrown while reading the response body, as opposed to storage write errors. */
class SourceReadError extends Error {
  override readonly name = 'SourceReadError';
}

async function* tagSourceErrors(body: StorageBody): AsyncGenerator<Uint8Array> {
  try {
    yield* iterateBody(body);
  } catch (error) {
    throw new SourceReadError('response body failed', { cause: error });
  }
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  // undici wraps the interesting part (ECONNREFUSED, UND_ERR_SOCKET, ...) in `cause`.
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code ? `${error.message} (${code})` : error.message;
}
