import { createSchema, createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import { renderGraphiqlPage } from './graphiql-page.ts';
import { createGraphqlWsServer } from './graphql-ws-server.ts';
import { useQueryLimits } from './limits.ts';
import { createResolvers, type RequestContext, type ResolverDeps } from './resolvers.ts';
import { createSseSubscriptions } from './sse-subscriptions.ts';
import { createSubscriptionCohorts } from './subscription-cohorts.ts';
import { typeDefs } from './type-defs.ts';

/** What GraphiQL opens with: the watchlist, the question most people come with. */
export const EXAMPLE_QUERY = /* GraphQL */ `# Every watched stock with its logo, 52-week range and latest price.
# Try the subscription too:  subscription { ticks { ticker price time } }
query Watchlist {
  watchlist {
    ticker
    companyName
    logoUrl
    high52Week
    low52Week
    latestPrice
    latestTime
  }
}
`;

export interface YogaDeps extends ResolverDeps {
  logger: Logger;
  /** Other origins whose pages may call the API (ALLOWED_ORIGINS). */
  allowedOrigins: readonly string[];
}

/**
 * The GraphQL endpoint. GraphiQL is rendered from a locally bundled copy (the stock page loads its code
 * from a CDN, which this product never does). Unexpected errors are masked here, in one place: clients
 * see "Unexpected error." and the log keeps the detail.
 */
export function createYogaServer(deps: YogaDeps, schema: ReturnType<typeof createStockSchema>) {
  const allowed = new Set(deps.allowedOrigins);
  return createYoga<RequestContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'stockstreamer GraphiQL', defaultQuery: EXAMPLE_QUERY },
    renderGraphiQL: renderGraphiqlPage,
    maskedErrors: true,
    plugins: [useQueryLimits()],
    // Same-origin pages need no CORS; other origins only when listed in ALLOWED_ORIGINS (the app refuses
    // the rest before Yoga sees them).
    cors: (request) => {
      const origin = request.headers.get('origin');
      return origin && allowed.has(origin) ? { origin, credentials: true, maxAge: 600 } : { origin: [] };
    },
    logging: {
      debug: (...args) => deps.logger.debug(args.map(String).join(' ')),
      info: (...args) => deps.logger.info(args.map(String).join(' ')),
      warn: (...args) => deps.logger.warn(args.map(String).join(' ')),
      error: (...args) => deps.logger.error({ err: args[0] }, 'graphql error'),
    },
  });
}

export function createStockSchema(deps: ResolverDeps) {
  return createSchema<RequestContext>({ typeDefs, resolvers: createResolvers(deps) });
}

/**
 * The GraphQL side of the API, all on one executable schema: Yoga for queries, mutations, GraphiQL and every
 * error answer over HTTP; subscriptions over SSE and the whole of graphql-ws over WebSocket, both served
 * from one set of cohorts, so an SSE viewer and a WebSocket viewer of the same operation share one
 * execution and one serialisation per event.
 */
export function createGraphqlServer(deps: YogaDeps & { maxWebSocketMessageBytes: number }) {
  const schema = createStockSchema(deps);
  const cohorts = createSubscriptionCohorts({ schema, logger: deps.logger });
  const sse = createSseSubscriptions({ schema, cohorts, logger: deps.logger });
  const webSockets = createGraphqlWsServer({
    schema,
    cohorts,
    logger: deps.logger,
    maxPayloadBytes: deps.maxWebSocketMessageBytes,
  });
  return {
    yoga: createYogaServer(deps, schema),
    /** SSE subscriptions (Koa hands them over), their counts with graphql-ws's, and the shutdown. */
    subscriptions: {
      handle: sse.handle,
      stats: cohorts.stats,
      /**
       * Completes every subscription on both transports and stops their sources; WebSockets are closed
       * (1001) and given `graceMs` for their close handshake before they are cut.
       */
      async closeAll(graceMs: number) {
        const sockets = webSockets.closeAll(graceMs);
        await cohorts.closeAll();
        sse.closeAll();
        await sockets;
      },
    },
    webSockets,
  };
}
