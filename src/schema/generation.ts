import type { Generation } from '../generated/prisma/client.ts';
import { findGeneration, listGenerations } from '../resolvers/history.ts';
import { watchGeneration } from '../resolvers/subscription.ts';
import { builder } from './builder.ts';
import { parseGlobalId } from './global-id.ts';
import { ImageFormatEnum, ImageRef } from './image.ts';

export const GenerationStatusEnum = builder.enumType('GenerationStatus', {
  description: 'Where a generation is in its lifecycle; the last four are final.',
  values: {
    PENDING: { description: 'Recorded here, not yet accepted by the upstream API.' },
    QUEUED: { description: 'Accepted upstream, waiting for a worker.' },
    PROCESSING: { description: 'Being rendered upstream, or its images are being stored.' },
    COMPLETED: { description: 'Done; every image is stored here.' },
    FAILED: { description: 'Ended with an error (see error.code).' },
    CANCELLED: { description: 'Cancelled; later upstream results are ignored.' },
    EXPIRED: { description: 'No final answer from upstream within the deadline.' },
  } as const,
});

type FluxParamsShape = Record<string, unknown>;
const FluxParamsRef = builder.objectRef<FluxParamsShape>('FluxParams').implement({
  description: 'The model parameters as recorded (exactly what was sent upstream).',
  fields: (t) => {
    const param =
      <T>(key: string) =>
      (params: FluxParamsShape) =>
        (params[key] ?? null) as T | null;
    return {
      aspectRatio: t.string({
        nullable: true,
        description: '"W:H" or "custom".',
        resolve: param('aspect_ratio'),
      }),
      width: t.int({
        nullable: true,
        description: 'Width in pixels (custom only).',
        resolve: param('width'),
      }),
      height: t.int({
        nullable: true,
        description: 'Height in pixels (custom only).',
        resolve: param('height'),
      }),
      outputFormat: t.field({
        type: ImageFormatEnum,
        nullable: true,
        description: 'Requested file format.',
        resolve: (params) =>
          typeof params.output_format === 'string'
            ? (params.output_format.toUpperCase() as 'JPG')
            : null,
      }),
      outputQuality: t.int({
        nullable: true,
        description: '0-100 (jpg, webp).',
        resolve: param('output_quality'),
      }),
      seed: t.int({
        nullable: true,
        description: 'Seed for reproducible output.',
        resolve: param('seed'),
      }),
      imagePrompt: t.string({
        nullable: true,
        description: 'Guiding image URL (Flux Redux).',
        resolve: param('image_prompt'),
      }),
      promptUpsampling: t.boolean({
        nullable: true,
        description: 'Prompt rewritten upstream for variety.',
        resolve: param('prompt_upsampling'),
      }),
    };
  },
});

const GenerationFailureRef = builder
  .objectRef<{ code: string; message: string }>('GenerationFailure')
  .implement({
    description: 'Why a generation did not complete.',
    fields: (t) => ({
      code: t.exposeString('code', {
        description: 'Stable code, e.g. INSUFFICIENT_CREDITS, GENERATION_FAILED, OUTPUT_EXPIRED.',
      }),
      message: t.exposeString('message', { description: 'Upstream’s or our own explanation.' }),
    }),
  });

const GenerationTrackingRef = builder.objectRef<Generation>('GenerationTracking').implement({
  description: 'How fluxgate followed a generation upstream: attempts and timings.',
  fields: (t) => ({
    submitAttempts: t.exposeInt('submitAttempts', {
      description: 'Submissions sent upstream (retries reuse the same Idempotency-Key).',
    }),
    statusPolls: t.exposeInt('pollCount', { description: 'Status polls made upstream.' }),
    webhookEvents: t.exposeInt('webhookEvents', {
      description: 'Verified webhook events received from upstream.',
    }),
    submittedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When upstream accepted the job.',
      resolve: (g) => g.submittedAt,
    }),
    processingAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the job was first seen processing.',
      resolve: (g) => g.processingAt,
    }),
    upstreamCompletedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When upstream finished the job (its own clock).',
      resolve: (g) => g.upstreamCompletedAt,
    }),
    deadlineAt: t.field({
      type: 'DateTime',
      description: 'When it becomes EXPIRED if upstream has not answered by then.',
      resolve: (g) => g.deadlineAt,
    }),
    resultUrls: t.exposeStringList('resultUrls', {
      description: 'The upstream image URLs, kept for the record (they expire).',
    }),
  }),
});

export const GenerationRef = builder.objectRef<Generation>('Generation');

builder.node(GenerationRef, {
  description: 'One call of generateImage: what was asked, and everything that came of it.',
  id: { resolve: (generation) => generation.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.generation.load(id))),
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'fingerprint' in value,
  fields: (t) => ({
    model: t.exposeString('model', { description: 'Upstream model id, e.g. "flux-1.1-pro".' }),
    prompt: t.exposeString('prompt', { description: 'The text prompt.' }),
    params: t.field({
      type: FluxParamsRef,
      description: 'Parameters exactly as sent upstream.',
      resolve: (generation) => generation.params as FluxParamsShape,
    }),
    status: t.field({
      type: GenerationStatusEnum,
      description: 'Lifecycle state.',
      resolve: (generation) => generation.status,
    }),
    progress: t.exposeInt('progress', {
      nullable: true,
      description: '0-100 while running, when upstream reports it.',
    }),
    images: t.field({
      type: [ImageRef],
      description: 'Stored copies of the outputs, served by this service (upstream URLs expire).',
      resolve: (generation, _args, ctx) => ctx.loaders.imagesByGeneration.load(generation.id),
    }),
    error: t.field({
      type: GenerationFailureRef,
      nullable: true,
      description: 'Set when FAILED, CANCELLED or EXPIRED.',
      resolve: ({ errorCode, errorMessage }) =>
        errorCode ? { code: errorCode, message: errorMessage ?? errorCode } : null,
    }),
    upstreamJobId: t.exposeString('upstreamJobId', {
      nullable: true,
      description: 'apiframe’s job id, once accepted.',
    }),
    creditCost: t.exposeInt('creditCost', {
      nullable: true,
      description: 'Credits upstream charged, when it reports them.',
    }),
    idempotencyKey: t.exposeString('idempotencyKey', {
      nullable: true,
      description: 'The client’s idempotency key, if given.',
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was recorded.',
      resolve: (g) => g.createdAt,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'Last change of any field.',
      resolve: (g) => g.updatedAt,
    }),
    completedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When its images were stored.',
      resolve: (g) => g.completedAt,
    }),
    tracking: t.field({
      type: GenerationTrackingRef,
      description: 'Attempts and timings of following it upstream.',
      resolve: (g) => g,
    }),
  }),
});

const GenerationFilterInput = builder.inputType('GenerationFilter', {
  description: 'Narrows the history; all given conditions must hold.',
  fields: (t) => ({
    status: t.field({ type: [GenerationStatusEnum], description: 'Any of these statuses.' }),
    model: t.stringList({ description: 'Any of these model ids.' }),
    search: t.string({
      description: 'Full-text search over the prompt (Postgres text search, not LIKE).',
    }),
    createdAfter: t.field({
      type: 'DateTime',
      description: 'Created strictly after this instant.',
    }),
    createdBefore: t.field({
      type: 'DateTime',
      description: 'Created strictly before this instant.',
    }),
    seed: t.int({ description: 'Generations with exactly this seed.' }),
  }),
});

const GenerationOrderEnum = builder.enumType('GenerationOrder', {
  description: 'Order of the history.',
  values: {
    CREATED_AT_DESC: { description: 'Newest first.' },
    CREATED_AT_ASC: { description: 'Oldest first.' },
  } as const,
});

builder.queryFields((t) => ({
  generation: t.field({
    type: GenerationRef,
    nullable: true,
    description: 'One generation of the caller’s, or null if it does not exist or is not theirs.',
    args: { id: t.arg.id({ required: true, description: 'Global id of the generation.' }) },
    resolve: (_root, args, ctx) =>
      findGeneration(ctx, parseGlobalId(String(args.id), 'Generation')),
  }),
  generations: t.connection(
    {
      type: GenerationRef,
      description:
        'The caller’s generation history, newest first by default. Keyset pagination: cost does not grow with page depth. totalCount honours the filter.',
      args: {
        filter: t.arg({ type: GenerationFilterInput, description: 'Conditions on the rows.' }),
        orderBy: t.arg({
          type: GenerationOrderEnum,
          defaultValue: 'CREATED_AT_DESC',
          description: 'Sort order.',
        }),
      },
      resolve: (_root, args, ctx) => listGenerations(ctx, args),
    },
    {
      name: 'GenerationConnection',
      description: 'A page of generations.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'All rows matching the filter, across pages.',
          resolve: (connection) =>
            (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
        }),
      }),
    },
    { name: 'GenerationEdge', description: 'One generation in a page.' },
  ),
}));

builder.subscriptionField('generationUpdated', (t) =>
  t.field({
    type: GenerationRef,
    description:
      'The generation now, then after every change of its status or progress, until it is final.',
    args: { id: t.arg.id({ required: true, description: 'Global id of the generation.' }) },
    subscribe: (_root, args, ctx) =>
      watchGeneration(ctx, parseGlobalId(String(args.id), 'Generation')),
    resolve: (generation) => generation,
  }),
);
