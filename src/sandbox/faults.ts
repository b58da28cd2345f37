import { z } from 'zod';

/** Which sandbox routes an HTTP fault hits; `any` is every non-admin route. */
export const HTTP_FAULT_ROUTES = ['generate', 'job', 'list', 'me', 'files', 'any'] as const;
export type HttpFaultRoute = (typeof HTTP_FAULT_ROUTES)[number];
export type FaultableRoute = Exclude<HttpFaultRoute, 'any'>;

export const RESULT_SHAPES = ['string', 'images'] as const;
export type ResultShape = (typeof RESULT_SHAPES)[number];

const httpFaultSchema = z.strictObject({
  route: z.enum(HTTP_FAULT_ROUTES),
  status: z.int().min(400).max(599),
  /** Apply to the next N matching requests, then drop the fault. */
  times: z.int().min(1).optional(),
  /** Probability per matching request (default 1). */
  rate: z.number().min(0).max(1).optional(),
  /** Sets `Retry-After` (seconds). */
  retryAfterS: z.int().min(0).optional(),
  /** Overrides the `{error}` text. */
  error: z.string().optional(),
});
export type HttpFault = z.infer<typeof httpFaultSchema>;

export type SandboxFaults = {
  /** Time from submit to the final status; applies to jobs submitted afterwards. */
  latencyMs: number;
  /** `result` as one URL string or as `{images: [url]}`; fixed per job at submit. */
  resultShape: ResultShape;
  /** Image URLs 404 this long after completion; read live, so lowering it expires old jobs. */
  urlTtlS: number;
  /** Share of new jobs that end FAILED (refunded). */
  failRate: number;
  /** Share of new jobs that stay PROCESSING forever. */
  neverFinishRate: number;
  /** Share of new jobs that end CANCELLED upstream (no webhook: none is documented). */
  cancelRate: number;
  /** Answered before any other processing, so a faulted generate creates no job. */
  httpFaults: HttpFault[];
  /** Remaining balance; a generate needs `creditCost`. */
  credits: number;
  creditCost: number;
  /** Share of webhook deliveries silently not sent (recorded with `dropped: true`). */
  dropWebhookRate: number;
  /** Share of sent webhook events sent a second time right after (for dedupe tests). */
  duplicateWebhookRate: number;
  /** Extra wait before each webhook delivery; read when the event happens. */
  webhookDelayMs: number;
};

const rate = z.number().min(0).max(1);

export const faultsPatchSchema = z.strictObject({
  latencyMs: z.int().min(0).optional(),
  resultShape: z.enum(RESULT_SHAPES).optional(),
  urlTtlS: z.number().min(0).optional(),
  failRate: rate.optional(),
  neverFinishRate: rate.optional(),
  cancelRate: rate.optional(),
  httpFaults: z.array(httpFaultSchema).optional(),
  credits: z.number().min(0).optional(),
  creditCost: z.int().min(0).optional(),
  dropWebhookRate: rate.optional(),
  duplicateWebhookRate: rate.optional(),
  webhookDelayMs: z.int().min(0).optional(),
});
export type SandboxFaultsPatch = z.infer<typeof faultsPatchSchema>;

export function mergeFaults(current: SandboxFaults, patch: unknown): SandboxFaults {
  const parsed = faultsPatchSchema.safeParse(patch);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid sandbox faults: ${problems.join('; ')}`);
  }
  const defined = Object.fromEntries(
    Object.entries(parsed.data).filter(([, value]) => value !== undefined),
  );
  const merged: SandboxFaults = { ...current, ...defined };
  // Copies, so that consuming `times` never mutates the caller's objects.
  merged.httpFaults = merged.httpFaults.map((fault) => ({ ...fault }));
  return merged;
}

/**
 * The first fault that fires for this route, consuming one of its `times` (and dropping it
 * when spent). Mutates `faults`.
 */
export function takeHttpFault(
  faults: HttpFault[],
  route: FaultableRoute,
  random: () => number = Math.random,
): HttpFault | undefined {
  for (let index = 0; index < faults.length; index++) {
    const fault = faults[index];
    if (fault === undefined || (fault.route !== route && fault.route !== 'any')) {
      continue;
    }
    if (fault.rate !== undefined && random() >= fault.rate) {
      continue;
    }
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) {
        faults.splice(index, 1);
      }
    }
    return fault;
  }
  return undefined;
}

const FAULT_TEXT: Record<number, string> = {
  400: 'Validation failed',
  401: 'Invalid API key',
  402: 'Insufficient credits',
  403: 'API key is inactive',
  404: 'Not found',
  409: 'Idempotency key was already used with a different request body',
  429: 'Too many requests, please slow down',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service temporarily unavailable, please retry later',
  504: 'Gateway timeout',
};

export function httpFaultText(fault: HttpFault): string {
  return fault.error ?? FAULT_TEXT[fault.status] ?? `Sandbox fault ${fault.status}`;
}
