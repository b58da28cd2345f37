import { db } from '../db.ts';
import { isUuid } from './loaders.ts';

export const imageUrl = (publicUrl: string, imageId: string) => `${publicUrl}/images/${imageId}`;

/**
 * The stored image behind GET /images/:id. The URL is a capability (an unguessable UUID), so
 * that <img src> works without headers, like a private object store's unlisted URLs.
 */
export function findStoredImage(imageId: string) {
  if (!isUuid(imageId)) {
    return Promise.resolve(null);
  }
  return db.image.findUnique({
    where: { id: imageId },
    select: { storageKey: true, contentType: true, byteSize: true, sha256: true },
  });
}
