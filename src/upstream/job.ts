import { z } from 'zod';

/**
 * Response schemas (contract §2–3). Tolerant where sources disagree (nullable, optional,
 * extra keys ignored), strict where the service depends on a value (id, status, dates).
 */

export const UPSTREAM_JOB_STATUSES = [
  'QUEUED',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type UpstreamJobStatus = (typeof UPSTREAM_JOB_STATUSES)[number];

// Any 8-4-4-4-12 hex id: which UUID version upstream issues is unknown.
const jobId = z.guid();
const isoDate = z.iso.datetime({ offset: true });

// Older sources show one URL string, newer ones `{ images: [...] }` plus extra keys.
export const upstreamResultSchema = z.union([
  z.string(),
  z.looseObject({ images: z.array(z.string()) }),
  z.null(),
]);
export type UpstreamResult = z.infer<typeof upstreamResultSchema>;

// Only an integer 0–100 is documented; round rather than reject a fractional value.
export const upstreamProgressSchema = z
  .number()
  .min(0)
  .max(100)
  .transform((value) => Math.round(value))
  .nullish();

export const upstreamJobSchema = z.looseObject({
  id: jobId,
  status: z.enum(UPSTREAM_JOB_STATUSES),
  progress: upstreamProgressSchema,
  result: upstreamResultSchema.optional(),
  error: z.string().nullish(),
  creditCost: z.int().min(0).nullish(),
  // Values differ by source ("sent" vs pending/delivered/failed): opaque.
  webhookStatus: z.unknown().optional(),
  createdAt: isoDate,
  completedAt: isoDate.nullish(),
  model: z.string(),
  expired: z.boolean().optional(),
});
export type UpstreamJob = z.infer<typeof upstreamJobSchema>;

export const createJobResponseSchema = z.looseObject({
  jobId,
  status: z.string().min(1),
});
export type CreateJobResponse = { jobId: string; status: string };

export const listJobsResponseSchema = z.looseObject({
  jobs: z.array(upstreamJobSchema),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});
export type ListJobsResponse = { jobs: UpstreamJob[]; nextCursor: string | null; hasMore: boolean };

// `/me` drifts between the docs and the spec (contract §3): every field below `user` is optional.
export const accountSchema = z.looseObject({
  user: z
    .looseObject({
      id: z.string(),
      email: z.string().optional(),
      role: z.string().optional(),
    })
    .nullish(),
  team: z
    .looseObject({
      id: z.string(),
      name: z.string().optional(),
      plan: z.string().nullish(),
      credits: z.number().nullish(),
      maxConcurrentJobs: z.int().nullish(),
      customerId: z.string().nullish(),
    })
    .nullish(),
  apiKey: z
    .looseObject({
      id: z.string(),
      name: z.string().nullish(),
      prefix: z.string().nullish(),
    })
    .nullish(),
});
export type UpstreamAccount = z.infer<typeof accountSchema>;

export const errorBodySchema = z.looseObject({
  error: z.string().optional(),
  details: z.record(z.string(), z.array(z.string())).optional(),
});

/** Every image URL in a job `result`, whichever of the two documented shapes it has. */
export function resultUrls(result: unknown): string[] {
  if (typeof result === 'string') {
    return [result];
  }
  const images = (result as { images?: unknown } | null)?.images;
  return Array.isArray(images) ? images.filter((u): u is string => typeof u === 'string') : [];
}
