import type { ByteRange, Storage } from '../storage/storage.ts';

export interface ServableImage {
  storageKey: string;
  contentType: string;
  byteSize: number;
  /** Lowercase hex sha256; doubles as the strong ETag, since the bytes never change. */
  sha256: string;
}

type RangeDecision =
  | { kind: 'full' }
  | { kind: 'partial'; range: ByteRange }
  | { kind: 'unsatisfiable' };

/**
 * Answers GET/HEAD for a stored image: strong ETag, immutable caching, conditional requests and
 * single byte ranges. Multiple ranges get the whole file with 200, which RFC 9110 allows and which
 * spares us multipart/byteranges for a case that image clients do not use.
 */
export async function serveStoredImage(
  request: Request,
  image: ServableImage,
  storage: Storage,
): Promise<Response> {
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }

  const etag = `"${image.sha256}"`;
  const size = image.byteSize;
  const common = {
    etag,
    'cache-control': 'public, max-age=31536000, immutable',
    'accept-ranges': 'bytes',
  };

  if (etagListMatches(request.headers.get('if-none-match'), etag)) {
    return new Response(null, { status: 304, headers: common });
  }

  const stored = await storage.stat(image.storageKey);
  if (stored === null) {
    return new Response(null, { status: 404, headers: { 'cache-control': 'no-store' } });
  }
  if (stored.byteSize !== size) {
    // The row and the bytes disagree: serving would send a wrong Content-Length.
    return new Response(null, { status: 500, headers: { 'cache-control': 'no-store' } });
  }

  const headers = {
    ...common,
    'content-type': image.contentType,
    'x-content-type-options': 'nosniff',
  };

  // Range is defined for GET only (RFC 9110 §14.2); If-Range falls back to the full body when the
  // validator is not our current strong ETag (a date never matches: we send no Last-Modified).
  const ifRange = request.headers.get('if-range');
  const decision =
    method === 'GET' && (ifRange === null || ifRange.trim() === etag)
      ? decideRange(request.headers.get('range'), size)
      : { kind: 'full' as const };

  if (decision.kind === 'unsatisfiable') {
    return new Response(null, {
      status: 416,
      headers: { 'accept-ranges': 'bytes', 'content-range': `bytes */${size}` },
    });
  }

  if (decision.kind === 'partial') {
    const { start, end } = decision.range;
    return new Response(storage.read(image.storageKey, decision.range), {
      status: 206,
      headers: {
        ...headers,
        'content-length': String(end - start + 1),
        'content-range': `bytes ${start}-${end}/${size}`,
      },
    });
  }

  const body = method === 'HEAD' || size === 0 ? null : storage.read(image.storageKey);
  return new Response(body, {
    status: 200,
    headers: { ...headers, 'content-length': String(size) },
  });
}

/** If-None-Match uses the weak comparison: `W/"x"` matches `"x"`; `*` matches anything. */
function etagListMatches(header: string | null, etag: string): boolean {
  if (header === null) {
    return false;
  }
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

/**
 * Parses `Range` for one resource of `size` bytes. Malformed headers, other units and multiple
 * ranges are ignored (full body), as RFC 9110 §14.2 permits.
 */
export function decideRange(header: string | null, size: number): RangeDecision {
  if (header === null) {
    return { kind: 'full' };
  }
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) {
    return { kind: 'full' };
  }
  const [, first, last] = match;
  if (first === '' && last === '') {
    return { kind: 'full' };
  }
  if (first === '') {
    // Suffix range: the last n bytes.
    const length = Number(last);
    if (length === 0 || size === 0) {
      return { kind: 'unsatisfiable' };
    }
    return { kind: 'partial', range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) {
    return { kind: 'full' }; // invalid, which is not the same as unsatisfiable
  }
  if (start >= size) {
    return { kind: 'unsatisfiable' };
  }
  const end = last === '' ? size - 1 : Number(last);
  return { kind: 'partial', range: { start, end: Math.min(end, size - 1) } };
}
