/**
 * The shapes the page receives from the GraphQL API (see graphql/type-defs.ts). Kept here rather than
 * imported from the server so that `web/` depends on the server only through the wire contract.
 */

/** A watched ticker, as `Query.watchlist` returns it. */
export interface Stock {
  ticker: string;
  companyName: string | null;
  /** A same-origin path such as `/logos/AAPL.svg`, or null while the logo job has not run yet. */
  logoUrl: string | null;
  high52Week: number | null;
  low52Week: number | null;
  latestPrice: number | null;
  /** ISO-8601 instant. */
  latestTime: string | null;
  enabled: boolean;
}

/** One stored observation, as `Subscription.ticks` streams it. */
export interface Tick {
  ticker: string;
  price: number;
  /** ISO-8601 instant. */
  time: string;
}

/** Columnar history, as `Query.priceHistory` returns it: `times[i]` (ms since epoch) goes with `prices[i]`. */
export interface PriceSeries {
  ticker: string;
  times: number[];
  prices: number[];
}

/** How admin access works on the server (`Query.permissions.adminMode`). */
export type AdminMode = 'PASSWORD' | 'LOOPBACK' | 'DISABLED';

/** What the page's requests may do (`Query.permissions`). */
export interface Permissions {
  canEditWatchlist: boolean;
  adminMode: AdminMode;
}

/** What the status pill shows; also the exact text the browser tests wait for. */
export type ConnectionStatus = 'live' | 'reconnecting' | 'offline';

/** The deployment's price feed as the server sees it (Query.status.freshness). */
export interface FeedFreshness {
  state: 'LIVE' | 'STALE' | 'PROVIDER_ERROR' | 'PENDING';
  reason: string | null;
  ageSeconds: number | null;
  lastGoodAt: string | null;
}

/** Query.status: the deployment's feed and each fetched ticker's state. */
export interface FeedStatusAnswer {
  freshness: FeedFreshness;
  tickers: { ticker: string; freshness: Pick<FeedFreshness, 'state' | 'reason'> }[];
}
