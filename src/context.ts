import { initContextCache } from '@pothos/core';
import type { YogaInitialContext } from 'graphql-yoga';
import { authenticate, type Viewer } from './auth.ts';
import { createLoaders, type Loaders } from './resolvers/loaders.ts';
import type { Services } from './services.ts';

export interface Context {
  viewer: Viewer;
  services: Services;
  loaders: Loaders;
}

/** A new object per request: DataLoader caches must never outlive one request. */
export async function createContext(
  { request }: Pick<YogaInitialContext, 'request'>,
  services: Services,
): Promise<Context> {
  const viewer = await authenticate(request, services.config);
  let loaders: Loaders | undefined;
  return {
    ...initContextCache(),
    viewer,
    services,
    get loaders() {
      loaders ??= createLoaders(viewer.accountId);
      return loaders;
    },
  };
}
