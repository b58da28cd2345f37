import { getViewer, listImageModels } from '../resolvers/viewer.ts';
import { builder } from './builder.ts';
import { ImageFormatEnum } from './image.ts';

const ViewerRef = builder.objectRef<Awaited<ReturnType<typeof getViewer>>>('Viewer').implement({
  description: 'The caller’s account and its quota.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Account id.' }),
    name: t.exposeString('name', { description: 'Account name.' }),
    generationsToday: t.exposeInt('generationsToday', {
      description: 'Generations started today (UTC).',
    }),
    dailyLimit: t.exposeInt('dailyLimit', {
      nullable: true,
      description: 'Daily limit; null means unlimited.',
    }),
  }),
});

const ImageModelRef = builder
  .objectRef<ReturnType<typeof listImageModels>[number]>('ImageModel')
  .implement({
    description: 'An image model this service can run, with its parameter limits.',
    fields: (t) => ({
      id: t.exposeString('id', { description: 'Model id to pass as input.model.' }),
      name: t.exposeString('name', { description: 'Display name.' }),
      aspectRatios: t.exposeStringList('aspectRatios', {
        description:
          'Suggested ratios ("W:H" of any positive integers also works; "custom" uses width/height).',
      }),
      minSize: t.exposeInt('minSize', { description: 'Smallest width/height in pixels.' }),
      maxSize: t.exposeInt('maxSize', { description: 'Largest width/height in pixels.' }),
      sizeStep: t.exposeInt('sizeStep', {
        description: 'Width and height must be multiples of this.',
      }),
      outputFormats: t.field({
        type: [ImageFormatEnum],
        description: 'Formats it can return.',
        resolve: (model) => model.outputFormats.map((format) => format.toUpperCase() as 'JPG'),
      }),
    }),
  });

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description: 'The caller’s account: who they are and how much of their quota is used.',
    resolve: (_root, _args, ctx) => getViewer(ctx),
  }),
  imageModels: t.field({
    type: [ImageModelRef],
    description: 'The image models this service can run, with their parameter limits.',
    resolve: () => listImageModels(),
  }),
}));
