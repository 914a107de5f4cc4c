import { createSchema, createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import { renderGraphiqlPage } from './graphiql-page.ts';
import { useQueryLimits } from './limits.ts';
import { createResolvers, type RequestContext, type ResolverDeps } from './resolvers.ts';
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
