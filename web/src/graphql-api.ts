/**
 * Queries and mutations over plain `fetch` to the same-origin GraphQL endpoint (the subscription goes through
 * graphql-sse, see tick-feed.ts). No client library: a handful of operations do not need a cache.
 */
import {
  AddToWatchlistDocument,
  type AddToWatchlistMutation,
  AlertFiringsDocument,
  AlertRulesDocument,
  CandlesDocument,
  CreateAlertRuleDocument,
  DeleteAlertRuleDocument,
  PermissionsDocument,
  PriceHistoryDocument,
  ProviderStatusDocument,
  type ProviderStatusQuery,
  RemoveFromWatchlistDocument,
  SetAlertRulePausedDocument,
  StatusDocument,
  type TypedDocumentString,
  WatchlistDocument,
} from './generated/graphql.ts';
import type {
  AlertFiring,
  AlertRule,
  AlertRuleInput,
  BarSeries,
  CandleSeries,
  FeedStatusAnswer,
  Permissions,
  PriceSeries,
  Stock,
} from './types.ts';

/** One entry of a GraphQL answer's `errors`, as much of it as the page uses. */
export interface GraphQLErrorEntry {
  message: string;
  extensions?: { code?: string; field?: string };
}

/**
 * The request reached no usable answer: network failure, an HTTP error, or GraphQL `errors`. `message` is
 * prefixed with the operation (for the console); `detail` is what the server said, fit to show a person.
 */
export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
  constructor(
    message: string,
    readonly detail: string,
    readonly status?: number,
    readonly errors: readonly GraphQLErrorEntry[] = [],
  ) {
    super(message);
  }

  /** The first error's `extensions.code` (`BAD_USER_INPUT`, `FORBIDDEN`, …), if any. */
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
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

/**
 * The provider's status with, beside it, the backfill's progress (`historyFill`: whether spans are being
 * filled, and how many of them are, whole %) and the US session (`market`: when prices follow it and it is
 * closed, the page says so and when it opens).
 */
export type ProviderStatus = ProviderStatusQuery['providerStatus'] &
  Partial<Pick<ProviderStatusQuery, 'historyFill' | 'market'>>;

export interface GraphqlApi {
  watchlist(signal?: AbortSignal): Promise<Stock[]>;
  providerStatus(signal?: AbortSignal): Promise<ProviderStatus>;
  /** The window's observed ticks (M4-reduced) and, apart from them, its provider bars (merged per pixel). */
  priceHistory(
    args: PriceHistoryArgs,
    signal?: AbortSignal,
  ): Promise<{ series: PriceSeries[]; bars: BarSeries[] }>;
  /** Candles of `interval` (or coarser, as the answer says) over the window, at most `width` a ticker. */
  candles(
    args: PriceHistoryArgs & { interval: CandleSeries['interval'] },
    signal?: AbortSignal,
  ): Promise<CandleSeries[]>;
  /** Asked with the admin token when one is set, so the answer says whether that token is accepted. */
  permissions(signal?: AbortSignal): Promise<Permissions>;
  addToWatchlist(ticker: string): Promise<AddToWatchlistMutation['addToWatchlist']>;
  removeFromWatchlist(ticker: string): Promise<boolean>;
  /** Whether prices are arriving (the deployment's freshness). */
  status(signal?: AbortSignal): Promise<FeedStatusAnswer>;
  /** Price alerts that fired in [from, to], newest first. */
  alertFirings(from: Date, to: Date, signal?: AbortSignal): Promise<AlertFiring[]>;
  /** Admin only, like the mutations below. */
  alertRules(): Promise<AlertRule[]>;
  createAlertRule(input: AlertRuleInput): Promise<AlertRule>;
  setAlertRulePaused(id: string, paused: boolean): Promise<AlertRule>;
  deleteAlertRule(id: string): Promise<boolean>;
}

type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface GraphqlApiOptions {
  url?: string;
  fetch?: FetchFn;
  /**
   * The admin password the viewer typed in, sent as `Authorization: Bearer …` (what the server accepts
   * besides HTTP Basic; a browser's Basic sign-in on /admin/queues is not sent to /graphql, see
   * watchlist-editor.ts). Undefined: no header.
   */
  adminToken?: () => string | undefined;
}

export function createGraphqlApi(options: GraphqlApiOptions = {}): GraphqlApi {
  const url = options.url ?? '/graphql';
  const fetchFn: FetchFn = options.fetch ?? ((input, init) => fetch(input, init));

  /** `document`'s type says what `variables` it takes and what its answer's `data` holds. */
  async function request<T, V>(
    operationName: string,
    document: TypedDocumentString<T, V>,
    variables: V,
    signal?: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    const token = options.adminToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ operationName, query: document.toString(), variables }),
        signal: signal ?? null,
        credentials: 'same-origin',
      });
    } catch (error) {
      const reason = (error as Error).message;
      throw new GraphQLRequestError(`${operationName}: ${reason}`, `Can't reach the server (${reason})`);
    }
    let body: { data?: T | null; errors?: GraphQLErrorEntry[] } | undefined;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    if (body?.errors?.length) {
      const detail = body.errors.map((e) => e.message).join('; ');
      throw new GraphQLRequestError(`${operationName}: ${detail}`, detail, response.status, body.errors);
    }
    if (!response.ok || !body?.data) {
      const detail =
        response.status === 429 ? 'Too many requests; try again in a minute' : `HTTP ${response.status}`;
      throw new GraphQLRequestError(`${operationName}: HTTP ${response.status}`, detail, response.status);
    }
    return body.data;
  }

  return {
    async providerStatus(signal) {
      const data = await request('ProviderStatus', ProviderStatusDocument, {}, signal);
      return { ...data.providerStatus, historyFill: data.historyFill, market: data.market };
    },
    async watchlist(signal) {
      return (await request('Watchlist', WatchlistDocument, {}, signal)).watchlist;
    },
    async priceHistory(args, signal) {
      const data = await request('PriceHistory', PriceHistoryDocument, windowVariables(args), signal);
      return { series: data.priceHistory, bars: data.barHistory };
    },
    async candles(args, signal) {
      const variables = { ...windowVariables(args), interval: args.interval };
      return (await request('Candles', CandlesDocument, variables, signal)).candles;
    },
    async permissions(signal) {
      return (await request('Permissions', PermissionsDocument, {}, signal)).permissions;
    },
    async addToWatchlist(ticker) {
      return (await request('AddToWatchlist', AddToWatchlistDocument, { ticker })).addToWatchlist;
    },
    async alertFirings(from, to, signal) {
      const variables = { from: from.toISOString(), to: to.toISOString() };
      return (await request('AlertFirings', AlertFiringsDocument, variables, signal)).alertFirings;
    },
    async alertRules() {
      return (await request('AlertRules', AlertRulesDocument, {})).alertRules;
    },
    async createAlertRule(input) {
      return (await request('CreateAlertRule', CreateAlertRuleDocument, { input })).createAlertRule;
    },
    async setAlertRulePaused(id, paused) {
      const data = await request('SetAlertRulePaused', SetAlertRulePausedDocument, { id, paused });
      return data.setAlertRulePaused;
    },
    async deleteAlertRule(id) {
      return (await request('DeleteAlertRule', DeleteAlertRuleDocument, { id })).deleteAlertRule;
    },
    async status(signal) {
      return (await request('Status', StatusDocument, {}, signal)).status;
    },
    async removeFromWatchlist(ticker) {
      return (await request('RemoveFromWatchlist', RemoveFromWatchlistDocument, { ticker }))
        .removeFromWatchlist;
    },
  };
}

/** A history window's variables, with what is not given left out so that the server's defaults apply. */
function windowVariables({ tickers, from, to, width }: PriceHistoryArgs) {
  return {
    ...(tickers ? { tickers: [...tickers] } : {}),
    ...(from ? { from: from.toISOString() } : {}),
    ...(to ? { to: to.toISOString() } : {}),
    ...(width !== undefined ? { width } : {}),
  };
}
