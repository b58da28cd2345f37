import { randomUUID } from 'node:crypto';
import type { Context } from '../context.ts';
import { db, type Tx } from '../db.ts';
import type { Generation, Prisma } from '../generated/prisma/client.ts';
import {
  ACTIVE_STATUSES,
  isFinalStatus,
  publishGenerationUpdate,
} from '../jobs/generation-status.ts';
import { enqueue, expiryJobKey, removeGenerationJobs } from '../jobs/queue.ts';
import {
  IdempotencyConflictError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
} from './errors.ts';
import {
  buildGenerateRequest,
  type GenerateImageArgs,
  type ImageFormatName,
  requestFingerprint,
} from './params.ts';

const startOfUtcDay = (now: Date) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

export function countGenerationsToday(ownerId: string, tx: Pick<typeof db, 'generation'> = db) {
  return tx.generation.count({ where: { ownerId, createdAt: { gte: startOfUtcDay(new Date()) } } });
}

/** A rolling one-minute window per account; replays of an idempotencyKey do not count. */
async function checkRateLimit(tx: Tx, ownerId: string, now: Date, perMinute: number) {
  if (perMinute === 0) {
    return;
  }
  const windowStart = new Date(now.getTime() - 60_000);
  const recent = await tx.generation.findMany({
    where: { ownerId, createdAt: { gte: windowStart } },
    select: { createdAt: true },
    orderBy: { createdAt: 'desc' },
    take: perMinute,
  });
  const oldest = recent.at(-1);
  if (recent.length >= perMinute && oldest) {
    const freeAt = oldest.createdAt.getTime() + 60_000;
    throw new RateLimitedError(Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)));
  }
}

/**
 * Validates, records the generation (PENDING) and its submit job in one transaction, and returns
 * at once; the job runner talks to upstream. Bad input throws ValidationError before any write.
 */
export async function generateImage(ctx: Context, args: GenerateImageArgs): Promise<Generation> {
  const request = buildGenerateRequest(args);
  const fingerprint = requestFingerprint(request);
  const ownerId = ctx.viewer.accountId;
  const idempotencyKey = args.idempotencyKey ?? null;
  const id = randomUUID();
  const now = new Date();
  const deadlineAt = new Date(now.getTime() + ctx.services.config.GENERATION_TIMEOUT_S * 1000);

  const generation = await db.$transaction(async (tx) => {
    // One writer per owner at a time: makes the idempotency check and the daily quota exact
    // under concurrent calls (the unique index on ownerId+idempotencyKey is the backstop).
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${ownerId}::text, 0))`;
    if (idempotencyKey) {
      const existing = await tx.generation.findUnique({
        where: { ownerId_idempotencyKey: { ownerId, idempotencyKey } },
      });
      if (existing) {
        if (existing.fingerprint !== fingerprint) {
          throw new IdempotencyConflictError(existing);
        }
        return { row: existing, created: false };
      }
    }
    await checkRateLimit(tx, ownerId, now, ctx.services.config.RATE_LIMIT_PER_MINUTE);
    const account = await tx.account.findUniqueOrThrow({
      where: { id: ownerId },
      select: { dailyLimit: true },
    });
    if (
      account.dailyLimit !== null &&
      (await countGenerationsToday(ownerId, tx)) >= account.dailyLimit
    ) {
      const resetsAt = new Date(startOfUtcDay(now).getTime() + 86_400_000);
      throw new QuotaExceededError(account.dailyLimit, resetsAt);
    }
    const row = await tx.generation.create({
      data: {
        id,
        ownerId,
        model: request.model,
        prompt: request.prompt,
        params: (request.fluxParams ?? {}) as Prisma.InputJsonObject,
        seed: request.fluxParams?.seed ?? null,
        fingerprint,
        idempotencyKey,
        deadlineAt,
      },
    });
    await enqueue(tx, 'submit', { id });
    await enqueue(tx, 'expire', { id }, { runAt: deadlineAt, jobKey: expiryJobKey(id) });
    return { row, created: true };
  });
  if (generation.created) {
    ctx.services.logger.info(
      { generationId: generation.row.id, ownerId, model: request.model },
      'generation recorded',
    );
  }
  return generation.row;
}

export interface RegenerateImageArgs {
  prompt?: string | null;
  seed?: number | null;
  idempotencyKey?: string | null;
}

/** A new generation from an earlier one's recorded parameters, with optional changes. */
export async function regenerateImage(
  ctx: Context,
  sourceId: string | null,
  changes: RegenerateImageArgs | null | undefined,
): Promise<Generation> {
  const source = sourceId ? await ctx.loaders.generation.load(sourceId) : null;
  if (!source) {
    throw new NotFoundError();
  }
  const params = source.params as Record<string, unknown>;
  return generateImage(ctx, {
    prompt: changes?.prompt ?? source.prompt,
    model: source.model,
    aspectRatio: params.aspect_ratio as string | undefined,
    width: params.width as number | undefined,
    height: params.height as number | undefined,
    outputFormat: (params.output_format as string | undefined)?.toUpperCase() as
      | ImageFormatName
      | undefined,
    outputQuality: params.output_quality as number | undefined,
    seed: changes?.seed ?? (params.seed as number | undefined),
    imagePrompt: params.image_prompt as string | undefined,
    promptUpsampling: params.prompt_upsampling as boolean | undefined,
    idempotencyKey: changes?.idempotencyKey,
  });
}

/**
 * Stops tracking a generation. apiframe has no cancel endpoint (see the contract), so the
 * upstream job may still run and be charged; a late result changes nothing here.
 */
export async function cancelGeneration(ctx: Context, id: string | null): Promise<Generation> {
  const existing = id ? await ctx.loaders.generation.load(id) : null;
  if (!existing || !id) {
    throw new NotFoundError();
  }
  if (isFinalStatus(existing.status)) {
    return existing;
  }
  const cancelled = await db.$transaction(async (tx) => {
    const { count } = await tx.generation.updateMany({
      where: {
        id,
        ownerId: ctx.viewer.accountId,
        status: { in: ACTIVE_STATUSES },
      },
      data: { status: 'CANCELLED', errorCode: 'CANCELLED', errorMessage: 'Cancelled by the owner' },
    });
    if (count > 0) {
      await removeGenerationJobs(tx, id);
    }
    return tx.generation.findUniqueOrThrow({ where: { id } });
  });
  publishGenerationUpdate(ctx.services.events, id);
  return cancelled;
}

/** Deletes a generation, its image rows and stored bytes; tracking stops with it. */
export async function deleteGeneration(ctx: Context, id: string | null): Promise<string> {
  const existing = id ? await ctx.loaders.generation.load(id) : null;
  if (!existing || !id) {
    throw new NotFoundError();
  }
  const images = await db.$transaction(async (tx) => {
    const rows = await tx.image.findMany({
      where: { generationId: id },
      select: { storageKey: true },
    });
    await removeGenerationJobs(tx, id);
    await tx.generation.delete({ where: { id } });
    return rows;
  });
  await Promise.all(images.map((image) => ctx.services.storage.delete(image.storageKey)));
  publishGenerationUpdate(ctx.services.events, id);
  return id;
}
