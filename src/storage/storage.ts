/** A byte source for `Storage.put`: a web stream (e.g. a fetch body) or any async iterable. */
export type StorageBody = AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

export interface PutOptions {
  /** Reject with `StorageLimitError` (and keep nothing) once the body exceeds this many bytes. */
  maxBytes?: number;
}

export interface PutResult {
  byteSize: number;
  /** Lowercase hex sha256 of the stored bytes. */
  sha256: string;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where image bytes live. Keys are relative paths such as `<generationId>/0.png`.
 * Implementations write atomically: a reader sees either no object or a complete one.
 */
export interface Storage {
  put(key: string, body: StorageBody, opts?: PutOptions): Promise<PutResult>;
  stat(key: string): Promise<{ byteSize: number } | null>;
  /** Streams the object (or an inclusive range of it); a missing object errors the stream. */
  read(key: string, range?: ByteRange): ReadableStream<Uint8Array>;
  /** Removes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** A local file path for the object, when the backend has one (lets sharp read it directly). */
  localPath?(key: string): string;
}

export class StorageLimitError extends Error {
  override readonly name = 'StorageLimitError';
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super(`object exceeds the limit of ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

export class StorageKeyError extends Error {
  override readonly name = 'StorageKeyError';
}

const MAX_KEY_LENGTH = 512;
// Segments may not start with a dot: that rules out `.` and `..`, and keeps backends free to use
// dot-files (e.g. temp files) that no key can ever address.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Throws `StorageKeyError` unless `key` is a plain relative path that stays inside the root. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new StorageKeyError('storage key must be 1-512 characters');
  }
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment)) {
      throw new StorageKeyError(`invalid storage key: ${JSON.stringify(key)}`);
    }
  }
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

/**
 * Iterates a body chunk by chunk. Web streams go through a reader rather than `for await`,
 * because the DOM typings that some dependencies pull in lack `ReadableStream[Symbol.asyncIterator]`.
 * Stopping early cancels the stream, so an HTTP source stops downloading.
 */
export async function* iterateBody(body: StorageBody): AsyncGenerator<Uint8Array> {
  if (!('getReader' in body)) {
    yield* body;
    return;
  }
  const reader = body.getReader();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) {
      await reader.cancel().catch(() => {});
    }
    reader.releaseLock();
  }
}
