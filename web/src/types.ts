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
  /** What the card's change since the previous close is measured from (`Stock.previousClose`). */
  previousClose?: PreviousClose | null;
}

/**
 * `Stock.previousClose`: SINCE_CLOSE, the latest price against `price` (stored by `sessionClose`);
 * SESSION, the exchanges are closed after the session ending `changeOfSessionClose`, whose change it is.
 */
export interface PreviousClose {
  price: number;
  /** ISO-8601 instants. */
  sessionClose: string;
  basis: 'SINCE_CLOSE' | 'SESSION';
  changeOfSessionClose: string | null;
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

/**
 * Provider bars, as `Query.barHistory` returns them: `times[i]` (a bar's start, ms since epoch) goes with
 * `ends[i]`, `open[i]`, `high[i]`, `low[i]`, `close[i]` and `volume[i]` (null where the provider gave none).
 */
export interface BarSeries {
  ticker: string;
  intervalS: number | null;
  times: number[];
  ends: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: (number | null)[];
  columnMs: number | null;
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

/** One firing of a price alert rule, as `Query.alertFirings` and `Subscription.alerts` give it. */
export interface AlertFiring {
  id: string;
  ruleId: string;
  ticker: string;
  kind: string;
  price: number;
  /** ISO-8601 instant of the tick that fired it. */
  time: string;
  /** One line for a person. */
  message: string;
}

/** A price alert rule, as `Query.alertRules` gives it (admin only). */
export interface AlertRule {
  id: string;
  ticker: string;
  kind: 'ABOVE' | 'BELOW' | 'MOVE_PERCENT' | 'HIGH_52_WEEK' | 'LOW_52_WEEK' | 'STALE';
  threshold: number | null;
  windowMinutes: number | null;
  cooldownSeconds: number;
  paused: boolean;
  armed: boolean;
}

/** What `createAlertRule` takes. */
export interface AlertRuleInput {
  ticker: string;
  kind: AlertRule['kind'];
  threshold?: number;
  windowMinutes?: number;
  cooldownSeconds?: number;
}

/**
 * One ticker's candles as the `candles` query answers them: `times[i]` (the candle's start, ms) with
 * `open[i]` … `close[i]`, `ticks[i]` (0 for a candle of provider bars alone) and `volume[i]` (null where
 * the provider gave none).
 */
export interface CandleSeries {
  ticker: string;
  interval: 'M1' | 'M5' | 'M15' | 'H1' | 'D1';
  times: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  ticks: number[];
  volume: (number | null)[];
}
