import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createGraphQLError, createYoga, maskError, type Plugin } from 'graphql-yoga';
import { type Context, createContext } from './context.ts';
import { db } from './db.ts';
import { serveStoredImage } from './http/images.ts';
import { handleApiframeWebhook } from './http/webhooks.ts';
import type { JobServices } from './jobs/context.ts';
import { PaginationArgumentError } from './resolvers/history.ts';
import { findStoredImage } from './resolvers/image.ts';
import { schema } from './schema/index.ts';
import type { Services } from './services.ts';

const IMAGE_PATH = /^\/images\/([^/]+)$/;

/** The non-GraphQL routes: stored images, liveness and readiness. */
function httpRoutes(services: JobServices): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (url.pathname === '/') {
        endResponse(Response.redirect(new URL('/graphql', url), 302));
      } else if (url.pathname === '/healthz') {
        endResponse(Response.json({ status: 'ok' }));
      } else if (url.pathname === '/webhooks/apiframe' && request.method === 'POST') {
        endResponse(await handleApiframeWebhook(request, services));
      } else if (url.pathname === '/readyz') {
        const ready = await db.$queryRaw`SELECT 1`.then(
          () => true,
          () => false,
        );
        endResponse(
          Response.json(
            { status: ready ? 'ready' : 'database unreachable' },
            { status: ready ? 200 : 503 },
          ),
        );
      } else {
        const match = IMAGE_PATH.exec(url.pathname);
        if (!match?.[1] || !['GET', 'HEAD'].includes(request.method)) {
          return;
        }
        const image = await findStoredImage(match[1]);
        endResponse(
          image
            ? await serveStoredImage(request, image, services.storage)
            : Response.json({ error: 'image not found' }, { status: 404 }),
        );
      }
    },
  };
}

/** One log line per HTTP request (never headers: they carry API keys). */
function requestLog(services: Services): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const url = new URL(request.url);
      services.logger.info(
        {
          method: request.method,
          path: url.pathname,
          status: response.status,
          ms: Math.round(performance.now() - (started.get(request) ?? performance.now())),
        },
        'request',
      );
    },
  };
}

export function createYogaApp(services: JobServices) {
  const isDev = services.config.NODE_ENV !== 'production';
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context: (initial) => createContext(initial, services),
    graphiql: isDev ? { title: 'fluxgate' } : false,
    logging: false,
    maskedErrors: {
      isDev,
      maskError(error, message) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof PaginationArgumentError) {
          return createGraphQLError(original.message, { extensions: { code: 'BAD_USER_INPUT' } });
        }
        services.logger.error({ err: original ?? error }, 'unexpected error');
        // isDev=false keeps internals out of responses; development shows them in GraphiQL.
        return maskError(error, message, isDev);
      },
    },
    plugins: [
      requestLog(services),
      httpRoutes(services),
      EnvelopArmorPlugin({
        maxDepth: { n: 10 },
        costLimit: { maxCost: 5000 },
        blockFieldSuggestion: { enabled: !isDev },
      }),
    ],
  });
}

export type YogaApp = ReturnType<typeof createYogaApp>;
