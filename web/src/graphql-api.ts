/**
 * Queries over plain `fetch` to the same-origin GraphQL endpoint (the subscription goes through graphql-sse,
 * see tick-feed.ts). No client library: two queries do not need a cache.
 */
import { PRICE_HISTORY_QUERY, WATCHLIST_QUERY } from './operations.ts';
import type { PriceSeries, Stock } from './types.ts';

/** The request reached no usable answer: network failure, an HTTP error, or GraphQL `errors`. */
export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface PriceHistoryArgs {
  tickers?: readonly string[];
  /** Start of the window; the server defaults to 7 days before `to`. */
  from?: Date;
  /** End of the window; the server defaults to now. */
  to?: Date;
  /** The chart's width in pixels (the server accepts 10 to 5000 and defaults to 1200). */
  width?: number;
}

export interface GraphqlApi {
  watchlist(signal?: AbortSignal): Promise<Stock[]>;
  priceHistory(args: PriceHistoryArgs, signal?: AbortSignal): Promise<PriceSeries[]>;
}

type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export function createGraphqlApi(
  url = '/graphql',
  fetchFn: FetchFn = (input, init) => fetch(input, init),
): GraphqlApi {
  async function request<T>(
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
        },
        body: JSON.stringify({ operationName, query, variables }),
        signal: signal ?? null,
      });
    } catch (error) {
      throw new GraphQLRequestError(`${operationName}: ${(error as Error).message}`);
    }
    let body: { data?: T | null; errors?: { message: string }[] } | undefined;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    if (body?.errors?.length) {
      throw new GraphQLRequestError(
        `${operationName}: ${body.errors.map((e) => e.message).join('; ')}`,
        response.status,
      );
    }
    if (!response.ok || !body?.data) {
      throw new GraphQLRequestError(`${operationName}: HTTP ${response.status}`, response.status);
    }
    return body.data;
  }

  return {
    async watchlist(signal) {
      const data = await request<{ watchlist: Stock[] }>('Watchlist', WATCHLIST_QUERY, {}, signal);
      return data.watchlist;
    },
    async priceHistory({ tickers, from, to, width }, signal) {
      const data = await request<{ priceHistory: PriceSeries[] }>(
        'PriceHistory',
        PRICE_HISTORY_QUERY,
        {
          ...(tickers ? { tickers } : {}),
          ...(from ? { from: from.toISOString() } : {}),
          ...(to ? { to: to.toISOString() } : {}),
          ...(width !== undefined ? { width } : {}),
        },
        signal,
      );
      return data.priceHistory;
    },
  };
}
