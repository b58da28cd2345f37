import { randomUUID } from 'node:crypto';
import { db } from '../db.ts';
import { DownloadError, downloadImage, type StoredImage } from '../storage/download.ts';
import { backoffMs, type TaskContext } from './context.ts';
import { ACTIVE_STATUSES, publishGenerationUpdate } from './generation-status.ts';
import type { GenerationJobPayload } from './queue.ts';
import { fail } from './transitions.ts';

// With the default 1 s base and the 60 s cap, about four minutes of retries before FAILED.
const MAX_DOWNLOAD_ATTEMPTS = 10;

/**
 * Copies every output of a completed upstream job (the URLs recorded on the generation) into
 * storage at once, since upstream URLs expire; then records the images and COMPLETED in one
 * transaction. Only one download step of a generation exists at a time (see applyUpstreamState).
 */
export async function downloadGeneration(
  payload: GenerationJobPayload,
  task: TaskContext,
): Promise<void> {
  const { services, logger } = task;
  const { id } = payload;
  const generation = await db.generation.findUnique({
    where: { id },
    select: { status: true, resultUrls: true },
  });
  if (!generation || !ACTIVE_STATUSES.includes(generation.status)) {
    return;
  }
  const urls = generation.resultUrls;
  const { storage, config } = services;
  const attempt = payload.attempt ?? 0;
  const results = await Promise.allSettled(
    urls.map((url, index) =>
      downloadImage({
        url,
        storage,
        key: `${id}/${index}`,
        timeoutMs: config.DOWNLOAD_TIMEOUT_MS,
        maxBytes: config.DOWNLOAD_MAX_BYTES,
      }),
    ),
  );
  const stored = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  if (failure) {
    await Promise.all(stored.map((image) => storage.delete(image.storageKey)));
    if (!(failure instanceof DownloadError)) {
      throw failure;
    }
    if (failure.code === 'SOURCE_NOT_FOUND') {
      // The upstream URLs stay on the generation (resultUrls) for the record.
      await fail(
        services,
        id,
        'OUTPUT_EXPIRED',
        'The upstream image URL has expired; the image is lost',
      );
      return;
    }
    if (failure.retryable && attempt + 1 < MAX_DOWNLOAD_ATTEMPTS) {
      const delay = backoffMs(attempt, services.config.RETRY_BASE_MS);
      logger.warn({ code: failure.code, attempt, retryInMs: delay }, 'download failed, will retry');
      await task.schedule('download', new Date(Date.now() + delay), { id, attempt: attempt + 1 });
      return;
    }
    await fail(services, id, 'DOWNLOAD_FAILED', failure.message);
    return;
  }
  const completed = await recordImages(id, urls, stored);
  if (!completed) {
    const now = await db.generation.findUnique({ where: { id }, select: { status: true } });
    // Cancelled, expired or deleted meanwhile: the bytes have no owner. (COMPLETED means a
    // second download of the same URLs won the race; its rows point at these same keys.)
    if (now?.status !== 'COMPLETED') {
      await Promise.all(stored.map((image) => storage.delete(image.storageKey)));
    }
    return;
  }
  publishGenerationUpdate(services.events, id);
  const bytes = stored.reduce((sum, image) => sum + image.byteSize, 0);
  logger.info({ images: stored.length, bytes }, 'completed');
}

async function recordImages(id: string, urls: string[], stored: StoredImage[]): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.generation.updateMany({
      where: { id, status: { in: ACTIVE_STATUSES } },
      data: { status: 'COMPLETED', progress: 100, completedAt: new Date() },
    });
    if (count === 0) {
      return false;
    }
    await tx.image.deleteMany({ where: { generationId: id } });
    await tx.image.createMany({
      data: stored.map((image, index) => ({
        id: randomUUID(),
        generationId: id,
        index,
        storageKey: image.storageKey,
        sourceUrl: urls[index] ?? null,
        width: image.width,
        height: image.height,
        format: image.format,
        contentType: image.contentType,
        byteSize: image.byteSize,
        sha256: image.sha256,
      })),
    });
    return true;
  });
}
