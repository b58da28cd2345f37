import type { Generation } from '../generated/prisma/client.ts';
import {
  IdempotencyConflictError,
  NotFoundError,
  QuotaExceededError,
  RateLimitedError,
  UpstreamError,
  ValidationError,
} from '../resolvers/errors.ts';
import {
  cancelGeneration,
  deleteGeneration,
  generateImage,
  regenerateImage,
} from '../resolvers/generation.ts';
import { builder } from './builder.ts';
import { GenerationRef } from './generation.ts';
import { parseGlobalId } from './global-id.ts';
import { ImageFormatEnum } from './image.ts';

const GenerateImageInput = builder.inputType('GenerateImageInput', {
  description: 'What to generate. Unset fields are not sent upstream (its defaults apply).',
  fields: (t) => ({
    prompt: t.string({
      required: true,
      description: 'What the image should show (1-2000 characters).',
    }),
    model: t.string({ defaultValue: 'flux-1.1-pro', description: 'Model id; see imageModels.' }),
    aspectRatio: t.string({
      description: '"W:H" with positive integers, or "custom" to use width and height.',
    }),
    width: t.int({ description: '256-1440, a multiple of 32; only with aspectRatio "custom".' }),
    height: t.int({ description: '256-1440, a multiple of 32; only with aspectRatio "custom".' }),
    outputFormat: t.field({ type: ImageFormatEnum, description: 'File format of the result.' }),
    outputQuality: t.int({
      description: '0-100; sent as given, though upstream ignores it for PNG.',
    }),
    seed: t.int({ description: 'Seed for reproducible output.' }),
    imagePrompt: t.string({
      description: 'http(s) URL of an image that guides the composition (Flux Redux).',
    }),
    promptUpsampling: t.boolean({
      description: 'Let upstream rewrite the prompt for more varied results.',
    }),
    idempotencyKey: t.string({
      description: 'Client-chosen key (1-255 chars) that makes retries safe.',
    }),
  }),
});

const RegenerateImageInput = builder.inputType('RegenerateImageInput', {
  description: 'Changes to apply to the earlier generation’s parameters.',
  fields: (t) => ({
    prompt: t.string({ description: 'A new prompt (default: the earlier one).' }),
    seed: t.int({ description: 'A new seed (default: the earlier one).' }),
    idempotencyKey: t.string({
      description: 'Client-chosen key (1-255 chars) that makes retries safe.',
    }),
  }),
});

// Shared by generateImage and regenerateImage; each field still gets its own result union.
const GenerateImageSuccess = builder
  .objectRef<{ generation: Generation }>('GenerateImageSuccess')
  .implement({
    description: 'The generation was recorded (or an idempotent replay found it).',
    fields: (t) => ({
      generation: t.field({
        type: GenerationRef,
        description: 'The generation.',
        resolve: (result) => result.generation,
      }),
    }),
  });

const resultUnion = (name: string) => ({
  directResult: true as const,
  union: { name, description: 'The new generation, or why none was started.' },
});

builder.mutationFields((t) => ({
  generateImage: t.field({
    type: GenerateImageSuccess,
    description:
      'Records the request, queues its submission upstream and returns at once (status PENDING). Follow it with generation(id), node(id) or the generationUpdated subscription. With the same idempotencyKey and the same input it returns the same generation and never submits twice.',
    args: {
      input: t.arg({ type: GenerateImageInput, required: true, description: 'What to generate.' }),
    },
    errors: {
      types: [
        ValidationError,
        QuotaExceededError,
        RateLimitedError,
        IdempotencyConflictError,
        UpstreamError,
      ],
      ...resultUnion('GenerateImageResult'),
    },
    resolve: async (_root, { input }, ctx) => ({ generation: await generateImage(ctx, input) }),
  }),
  regenerateImage: t.field({
    type: GenerateImageSuccess,
    description: 'Starts a new generation from an earlier one’s parameters, with optional changes.',
    args: {
      id: t.arg.id({ required: true, description: 'Global id of the earlier generation.' }),
      input: t.arg({ type: RegenerateImageInput, description: 'What to change.' }),
    },
    errors: {
      types: [
        NotFoundError,
        ValidationError,
        QuotaExceededError,
        RateLimitedError,
        IdempotencyConflictError,
        UpstreamError,
      ],
      ...resultUnion('RegenerateImageResult'),
    },
    resolve: async (_root, args, ctx) => ({
      generation: await regenerateImage(
        ctx,
        parseGlobalId(String(args.id), 'Generation'),
        args.input,
      ),
    }),
  }),
  cancelGeneration: t.field({
    type: GenerationRef,
    description:
      'Stops a generation that is not final yet (it becomes CANCELLED; a final one is returned unchanged). apiframe has no cancel endpoint, so an upstream job already accepted may still be charged.',
    args: { id: t.arg.id({ required: true, description: 'Global id of the generation.' }) },
    errors: {
      types: [NotFoundError, UpstreamError],
      union: {
        name: 'CancelGenerationResult',
        description: 'The cancelled generation, or why not.',
      },
      result: { name: 'CancelGenerationSuccess', description: 'The generation after the cancel.' },
      dataField: { name: 'generation', description: 'The generation.' },
    },
    resolve: (_root, args, ctx) =>
      cancelGeneration(ctx, parseGlobalId(String(args.id), 'Generation')),
  }),
  deleteGeneration: t.field({
    type: 'ID',
    description: 'Deletes a generation with its stored images; a running one stops being tracked.',
    args: { id: t.arg.id({ required: true, description: 'Global id of the generation.' }) },
    errors: {
      types: [NotFoundError],
      union: { name: 'DeleteGenerationResult', description: 'The deleted id, or why not.' },
      result: { name: 'DeleteGenerationSuccess', description: 'The generation is gone.' },
      dataField: { name: 'deletedId', description: 'Global id of the deleted generation.' },
    },
    resolve: async (_root, args, ctx) => {
      await deleteGeneration(ctx, parseGlobalId(String(args.id), 'Generation'));
      return String(args.id);
    },
  }),
}));
