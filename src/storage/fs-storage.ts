import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  assertValidKey,
  assertValidRange,
  type ByteRange,
  iterateBody,
  type PutOptions,
  type PutResult,
  type Storage,
  type StorageBody,
  StorageKeyError,
  StorageLimitError,
} from './storage.ts';

/**
 * A `Storage` under `rootDir` (created on demand). Objects are plain files at `<root>/<key>`;
 * writes go to a dot-prefixed temp file in the same directory and are renamed into place.
 * Directories are never removed, so a `delete` cannot race a `put` into the same directory.
 */
export function createFsStorage(rootDir: string): Storage {
  const root = path.resolve(rootDir);

  function resolveKey(key: string): string {
    assertValidKey(key);
    const file = path.resolve(root, key);
    // Belt and braces: the key syntax already forbids escapes.
    if (!file.startsWith(root + path.sep)) {
      throw new StorageKeyError(`storage key escapes the root: ${JSON.stringify(key)}`);
    }
    return file;
  }

  async function put(key: string, body: StorageBody, opts: PutOptions = {}): Promise<PutResult> {
    const target = resolveKey(key);
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const dir = path.dirname(target);
    await mkdir(dir, { recursive: true });
    const temp = path.join(dir, `.${path.basename(target)}.${randomUUID()}.tmp`);
    const hash = createHash('sha256');
    let byteSize = 0;
    const handle = await open(temp, 'wx');
    let handleOpen = true;
    try {
      // Leaving this loop early (limit, write error) calls the iterator's return(), which
      // cancels a web stream source, e.g. aborts the HTTP download.
      for await (const chunk of iterateBody(body)) {
        byteSize += chunk.byteLength;
        if (byteSize > maxBytes) {
          throw new StorageLimitError(maxBytes);
        }
        hash.update(chunk);
        let offset = 0;
        while (offset < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, offset);
          offset += bytesWritten;
        }
      }
      // Flush before the rename so a crash cannot leave a complete-looking but empty file.
      await handle.sync();
      handleOpen = false;
      await handle.close();
      await rename(temp, target);
    } catch (error) {
      if (handleOpen) {
        await handle.close().catch(() => {});
      }
      await rm(temp, { force: true });
      throw error;
    }
    return { byteSize, sha256: hash.digest('hex') };
  }

  async function statKey(key: string): Promise<{ byteSize: number } | null> {
    const file = resolveKey(key);
    try {
      const info = await stat(file);
      return info.isFile() ? { byteSize: info.size } : null;
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT') || isErrnoCode(error, 'ENOTDIR')) {
        return null;
      }
      throw error;
    }
  }

  function read(key: string, range?: ByteRange): ReadableStream<Uint8Array> {
    const file = resolveKey(key);
    if (range) {
      assertValidRange(range);
    }
    const stream = createReadStream(file, range ? { start: range.start, end: range.end } : {});
    return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  }

  async function deleteKey(key: string): Promise<void> {
    await rm(resolveKey(key), { force: true });
  }

  return { put, stat: statKey, read, delete: deleteKey, localPath: resolveKey };
}

function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
