/**
 * Queries and mutations over plain `fetch` to the same-origin GraphQL endpoint (the subscription goes through
 * graphql-sse, see tick-feed.ts). No client library: a handful of operations do not need a cache.
 */
import {
  ADD_TO_WATCHLIST_MUTATION,
  ALERT_FIRINGS_QUERY,
  ALERT_RULES_QUERY,
  CANDLES_QUERY,
  CREATE_ALERT_RULE_MUTATION,
  DELETE_ALERT_RULE_MUTATION,
  PERMISSIONS_QUERY,
  PRICE_HISTORY_QUERY,
  PROVIDER_STATUS_QUERY,
  REMOVE_FROM_WATCHLIST_MUTATION,
  SET_ALERT_RULE_PAUSED_MUTATION,
  STATUS_QUERY,
  WATCHLIST_QUERY,
} from './operations.ts';
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

export interface ProviderStatus {
  name: string;
  plan: string | null;
  priceEveryMs: number | null;
  circuit: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  nextProbeAt: string | null;
  stream: 'CONNECTED' | 'CONNECTING' | 'DOWN' | 'OFF';
  /** The backfill and gap repair: whether spans are being filled, and how many of them are (whole %). */
  historyFill?: { filling: boolean; percent: number; unavailable: string | null };
  /** The US session: when prices follow it and it is closed, the page says so and when it opens. */
  market?: { open: boolean; followsCalendar: boolean; nextOpen: string | null; lastClose: string | null };
}

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
  addToWatchlist(ticker: string): Promise<{ ticker: string; companyName: string | null }>;
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

  async function request<T>(
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
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
        body: JSON.stringify({ operationName, query, variables }),
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
      const data = await request<{
        providerStatus: ProviderStatus;
        historyFill: NonNullable<ProviderStatus['historyFill']>;
        market: NonNullable<ProviderStatus['market']>;
      }>('ProviderStatus', PROVIDER_STATUS_QUERY, {}, signal);
      return { ...data.providerStatus, historyFill: data.historyFill, market: data.market };
    },
    async watchlist(signal) {
      const data = await request<{ watchlist: Stock[] }>('Watchlist', WATCHLIST_QUERY, {}, signal);
      return data.watchlist;
    },
    async priceHistory({ tickers, from, to, width }, signal) {
      const data = await request<{ priceHistory: PriceSeries[]; barHistory: BarSeries[] }>(
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
      return { series: data.priceHistory, bars: data.barHistory };
    },
    async candles({ tickers, interval, from, to, width }, signal) {
      const data = await request<{ candles: CandleSeries[] }>(
        'Candles',
        CANDLES_QUERY,
        {
          interval,
          ...(tickers ? { tickers } : {}),
          ...(from ? { from: from.toISOString() } : {}),
          ...(to ? { to: to.toISOString() } : {}),
          ...(width !== undefined ? { width } : {}),
        },
        signal,
      );
      return data.candles;
    },
    async permissions(signal) {
      const data = await request<{ permissions: Permissions }>('Permissions', PERMISSIONS_QUERY, {}, signal);
      return data.permissions;
    },
    async addToWatchlist(ticker) {
      const data = await request<{ addToWatchlist: { ticker: string; companyName: string | null } }>(
        'AddToWatchlist',
        ADD_TO_WATCHLIST_MUTATION,
        { ticker },
      );
      return data.addToWatchlist;
    },
    async alertFirings(from, to, signal) {
      const data = await request<{ alertFirings: AlertFiring[] }>(
        'AlertFirings',
        ALERT_FIRINGS_QUERY,
        { from: from.toISOString(), to: to.toISOString() },
        signal,
      );
      return data.alertFirings;
    },
    async alertRules() {
      return (await request<{ alertRules: AlertRule[] }>('AlertRules', ALERT_RULES_QUERY, {})).alertRules;
    },
    async createAlertRule(input) {
      const data = await request<{ createAlertRule: AlertRule }>(
        'CreateAlertRule',
        CREATE_ALERT_RULE_MUTATION,
        {
          input,
        },
      );
      return data.createAlertRule;
    },
    async setAlertRulePaused(id, paused) {
      const data = await request<{ setAlertRulePaused: AlertRule }>(
        'SetAlertRulePaused',
        SET_ALERT_RULE_PAUSED_MUTATION,
        { id, paused },
      );
      return data.setAlertRulePaused;
    },
    async deleteAlertRule(id) {
      const data = await request<{ deleteAlertRule: boolean }>(
        'DeleteAlertRule',
        DELETE_ALERT_RULE_MUTATION,
        {
          id,
        },
      );
      return data.deleteAlertRule;
    },
    async status(signal) {
      const data = await request<{ status: FeedStatusAnswer }>('Status', STATUS_QUERY, {}, signal);
      return data.status;
    },
    async removeFromWatchlist(ticker) {
      const data = await request<{ removeFromWatchlist: boolean }>(
        'RemoveFromWatchlist',
        REMOVE_FROM_WATCHLIST_MUTATION,
        { ticker },
      );
      return data.removeFromWatchlist;
    },
  };
}
