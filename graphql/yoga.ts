import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createSchema, createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createResolvers, type ResolverDeps } from './resolvers.ts';
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
}

/**
 * The GraphQL endpoint. GraphiQL is rendered from a locally bundled copy (the stock page loads its code
 * from a CDN, which this product never does). Unexpected errors are masked here, in one place: clients
 * see "Unexpected error." and the log keeps the detail.
 */
export function createYogaServer(deps: YogaDeps) {
  return createYoga({
    schema: createSchema({ typeDefs, resolvers: createResolvers(deps) }),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'stockstreamer GraphiQL', defaultQuery: EXAMPLE_QUERY },
    renderGraphiQL,
    maskedErrors: true,
    logging: {
      debug: (...args) => deps.logger.debug(args.map(String).join(' ')),
      info: (...args) => deps.logger.info(args.map(String).join(' ')),
      warn: (...args) => deps.logger.warn(args.map(String).join(' ')),
      error: (...args) => deps.logger.error({ err: args[0] }, 'graphql error'),
    },
  });
}

export type YogaServer = ReturnType<typeof createYogaServer>;
