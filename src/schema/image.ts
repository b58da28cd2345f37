import type { Image } from '../generated/prisma/client.ts';
import { imageUrl } from '../resolvers/image.ts';
import { builder } from './builder.ts';
import { GenerationRef } from './generation.ts';

export const ImageFormatEnum = builder.enumType('ImageFormat', {
  description: 'File format of an image.',
  values: {
    JPG: { description: 'JPEG (image/jpeg).' },
    PNG: { description: 'PNG (image/png), lossless.' },
    WEBP: { description: 'WebP (image/webp).' },
  } as const,
});

export const ImageRef = builder.objectRef<Image>('Image');

builder.node(ImageRef, {
  description: 'One stored output image.',
  id: { resolve: (image) => image.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.image.load(id))),
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'storageKey' in value,
  fields: (t) => ({
    generation: t.field({
      type: GenerationRef,
      description: 'The generation that produced it.',
      resolve: async (image, _args, ctx) => {
        const generation = await ctx.loaders.generation.load(image.generationId);
        if (!generation) {
          throw new Error(`image ${image.id} has no generation visible to its reader`);
        }
        return generation;
      },
    }),
    index: t.exposeInt('index', {
      description: 'Position among the generation’s outputs, from 0.',
    }),
    url: t.string({
      description: 'Absolute URL of the stored copy on this service.',
      resolve: (image, _args, ctx) => imageUrl(ctx.services.config.PUBLIC_URL, image.id),
    }),
    sourceUrl: t.exposeString('sourceUrl', {
      nullable: true,
      description: 'The upstream URL it was copied from (may have expired).',
    }),
    width: t.exposeInt('width', {
      nullable: true,
      description: 'Width in pixels, read from the file.',
    }),
    height: t.exposeInt('height', {
      nullable: true,
      description: 'Height in pixels, read from the file.',
    }),
    format: t.field({
      type: ImageFormatEnum,
      description: 'File format, read from the file.',
      resolve: (image) => image.format,
    }),
    contentType: t.exposeString('contentType', { description: 'MIME type served with it.' }),
    byteSize: t.exposeInt('byteSize', { description: 'Size of the file in bytes.' }),
    sha256: t.exposeString('sha256', {
      description: 'Hex sha256 of the bytes (also the HTTP ETag).',
    }),
  }),
});
