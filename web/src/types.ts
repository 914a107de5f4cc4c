/**
 * The page's names for what it receives from the GraphQL API. None is written by hand: each is a piece of
 * an operation's result type, generated from the schema (graphql/type-defs.ts) and the page's operations
 * (operations.graphql) by `npm run codegen`, so a change to either shows up here as a type error, not as a
 * field that is silently undefined at run time.
 */
import type {
  AlertFiringFieldsFragment,
  AlertRuleFieldsFragment,
  CandlesQuery,
  PermissionsQuery,
  PriceHistoryQuery,
  StatusQuery,
  TicksSubscription,
  WatchlistQuery,
} from './generated/graphql.ts';

export type { AdminMode, AlertRuleInput } from './generated/graphql.ts';

/** A watched ticker, as `Query.watchlist` returns it. */
export type Stock = WatchlistQuery['watchlist'][number];

/** What the card's change since the previous close is measured from (`Stock.previousClose`). */
export type PreviousClose = NonNullable<Stock['previousClose']>;

/** One stored observation, as `Subscription.ticks` streams it. */
export type Tick = TicksSubscription['ticks'][number];

/** Columnar history, as `Query.priceHistory` returns it: `times[i]` (ms since epoch) goes with `prices[i]`. */
export type PriceSeries = PriceHistoryQuery['priceHistory'][number];

/** Provider bars, as `Query.barHistory` returns them (columnar, like PriceSeries). */
export type BarSeries = PriceHistoryQuery['barHistory'][number];

/** One ticker's candles as the `candles` query answers them (columnar, like PriceSeries). */
export type CandleSeries = CandlesQuery['candles'][number];

/** What the page's requests may do (`Query.permissions`). */
export type Permissions = PermissionsQuery['permissions'];

/** Query.status: the deployment's feed and each fetched ticker's state. */
export type FeedStatusAnswer = StatusQuery['status'];

/** The deployment's price feed as the server sees it (Query.status.freshness). */
export type FeedFreshness = FeedStatusAnswer['freshness'];

/** One firing of a price alert rule, as `Query.alertFirings` and `Subscription.alerts` give it. */
export type AlertFiring = AlertFiringFieldsFragment;

/** A price alert rule, as `Query.alertRules` gives it (admin only). */
export type AlertRule = AlertRuleFieldsFragment;

/** What the status pill shows; also the exact text the browser tests wait for. Page-only. */
export type ConnectionStatus = 'live' | 'reconnecting' | 'offline';
