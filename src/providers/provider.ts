import type { Bar, CompanyProfile, FiftyTwoWeekRange, Quote } from '../domain/market-records.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { PriceBatching } from './request-plan.ts';

/**
 * The market-data boundary: the classic's StockFetcher (price, logo, 52-week high/low), batch-shaped so a
 * provider with batch endpoints answers many symbols in one call and the others fan out with bounded
 * concurrency inside their own file. Every call takes an AbortSignal so the caller owns the timeout.
 */

/**
 * What a batch call returns: the symbols that worked and, separately, the ones that failed with why. One
 * bad symbol must never cost the others their data, so a per-symbol fault is reported here, not thrown.
 * A fault that hits the whole call (the provider is down, rate-limited, the key is wrong) is thrown.
 *
 * A provider without a batch endpoint fans out one request per symbol. When it is rate-limited part-way
 * (by the upstream or by the request budget) it stops sending and reports the symbols it did not get to
 * as failed with a `ProviderRateLimitedError`, so the caller keeps what came back and retries the rest.
 */
export interface BatchResult<T> {
  ok: T[];
  failed: { symbol: string; error: Error }[];
}

export interface FetchOptions {
  /** Cancels the whole call (e.g. the job is cancelled); each request also has its own timeout. */
  signal?: AbortSignal;
  /**
   * The request budget shared by every worker. Each upstream request takes from it first (Twelve Data's
   * batch takes one credit per symbol), and is not sent when it is used up.
   */
  budget?: RequestBudget;
  /**
   * The instant this fetch stands for: a price job's scheduler slot. A provider that computes its market
   * (the simulation) answers as of this instant, so a job that runs late (a worker died, Redis or Postgres
   * was away, a retry) observes exactly what an on-time run would have. Live providers ignore it: they
   * report the trade time the market gave them.
   */
  asOf?: Date;
  /**
   * Which share of the budget the requests draw on (request-plan.ts): `price` (the default) is refused at
   * once when there is no room, since the next slot asks again; `extra` (names, logos, ranges) and `check`
   * wait their turn, up to `maxBudgetWaitMs`, and only then are refused.
   */
  lane?: BudgetLane;
  maxBudgetWaitMs?: number;
  /** The provider's circuit breaker (circuit-breaker.ts): while it is open, nothing is sent. */
  breaker?: CircuitBreaker;
}

/**
 * The shares of a request budget: prices, and everything else (names, logos, 52-week ranges); `check` is
 * `providers check`, counted like prices but waiting for room like extras.
 */
export type BudgetLane = 'price' | 'extra' | 'check';

/** A budget of upstream requests counted across all workers (see request-budget.ts). */
export interface RequestBudget {
  /** At most this many requests (credits) in any window. */
  readonly max: number;
  readonly windowMs: number;
  /** The heaviest single request a lane can ever be granted (a Twelve Data batch is cut to fit it). */
  maxWeight(lane: BudgetLane): number;
  /** Takes `weight` from a lane. Resolves 0 when granted, otherwise the milliseconds until it can be. */
  take(weight: number, lane?: BudgetLane): Promise<number>;
}

/** A span of history to fetch: [from, to), and the price interval a live job stores ticks at. */
export interface HistorySpan {
  from: Date;
  to: Date;
  stepMs: number;
}

/**
 * What a history endpoint answers for one symbol: observed ticks (the simulation computes its own past
 * exactly, on the slots a price job would have used) or provider bars (open, high, low, close, volume),
 * which are stored apart from observations.
 */
export type HistoryAnswer = { ticks: Quote[] } | { bars: Bar[] };

export interface MarketDataProvider {
  /** The `PROVIDER` name, shown in logs and at start. */
  readonly name: string;
  /** How its price requests are shaped, which is what the request plan needs to know (request-plan.ts). */
  readonly priceBatching: PriceBatching;
  getQuotes(symbols: readonly string[], options?: FetchOptions): Promise<BatchResult<Quote>>;
  getProfiles(symbols: readonly string[], options?: FetchOptions): Promise<BatchResult<CompanyProfile>>;
  getFiftyTwoWeekRanges(
    symbols: readonly string[],
    options?: FetchOptions,
  ): Promise<BatchResult<FiftyTwoWeekRange>>;
  /** Past prices of one symbol; absent where the provider (or its free plan) serves none. */
  getHistory?(symbol: string, span: HistorySpan, options?: FetchOptions): Promise<HistoryAnswer>;
  /** What getHistory answers: exact ticks (the simulation) or bars, which the gap repair counts apart. */
  readonly historyKind?: 'ticks' | 'bars';
  /** Why this provider fills no history, said in GraphQL and the log (e.g. Finnhub's candles are paid-only). */
  readonly historyUnavailable?: string;
}

/** Base of every provider fault, naming the provider so a log line says where it came from. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly provider: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${provider}: ${message}`, options);
  }
}

/**
 * The provider does not know this symbol. Retrying cannot help: that symbol fails without retry and is
 * marked on the watchlist with the reason (`detail` says what the provider answered).
 */
export class UnknownSymbolError extends ProviderError {
  override name = 'UnknownSymbolError';
  constructor(
    provider: string,
    readonly symbol: string,
    detail?: string,
  ) {
    super(provider, `unknown symbol ${symbol}${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * The provider asked us to slow down (HTTP 429, or an in-body answer such as Alpha Vantage's `Note`), or our
 * own request budget is used up (`source: 'budget'`, and nothing was sent). `retryAfterMs` is the stated
 * window, when there was one. Not a failure: the queue pauses for the window and no retry is spent.
 */
export class ProviderRateLimitedError extends ProviderError {
  override name = 'ProviderRateLimitedError';
  readonly source: 'upstream' | 'budget';
  constructor(
    provider: string,
    readonly retryAfterMs: number | undefined,
    message = 'rate limited',
    options: { source?: 'upstream' | 'budget' } = {},
  ) {
    super(provider, message);
    this.source = options.source ?? 'upstream';
  }
}

/** The provider answered something we cannot use (HTML, truncated JSON, wrong types, a negative price). */
export class InvalidProviderResponseError extends ProviderError {
  override name = 'InvalidProviderResponseError';
}

/**
 * The provider's answer says our configuration is wrong, not the symbol: an endpoint path that is not
 * there (HTTP 404 in a shape that is not the provider's own "no such symbol"), a base URL that answers
 * something else entirely. Retrying cannot help, and no ticker is to blame: start-up stops with it.
 */
export class ProviderConfigError extends ProviderError {
  override name = 'ProviderConfigError';
}

/** The key is missing, wrong, or not entitled to the endpoint. Retrying cannot help: the job fails at once. */
export class ProviderAuthError extends ProviderError {
  override name = 'ProviderAuthError';
}

/**
 * The provider's plan does not serve its history endpoint (Alpha Vantage's intraday series is premium-only
 * on a free key). Not a fault to retry, nor a reason to stop the other jobs: the history jobs say so in
 * their progress, remember it for `forMs`, and fill nothing meanwhile.
 */
export class HistoryUnavailableError extends ProviderError {
  override name = 'HistoryUnavailableError';
  constructor(
    provider: string,
    message: string,
    readonly forMs: number,
  ) {
    super(provider, message);
  }
}

/** The provider could not be reached, or answered with a server error (5xx). Retried with backoff. */
export class ProviderUnavailableError extends ProviderError {
  override name = 'ProviderUnavailableError';
}

/**
 * The provider failed too often in a row, so its circuit is open and the request was not sent (see
 * circuit-breaker.ts). `retryAfterMs` is when the next probe goes. A slot skips, a refresh waits: no
 * retry is spent on a provider known to be down.
 */
export class CircuitOpenError extends ProviderUnavailableError {
  override name = 'CircuitOpenError';
  constructor(
    provider: string,
    readonly retryAfterMs: number,
  ) {
    super(provider, `failed repeatedly, so not asked again for ${retryAfterMs} ms (circuit open)`);
  }
}

/** One request took longer than PROVIDER_TIMEOUT_MS and was aborted. Retried with backoff. */
export class ProviderTimeoutError extends ProviderError {
  override name = 'ProviderTimeoutError';
}

/**
 * The provider knows the symbol but has no such data for it (no 52-week figures for an ETF, no trade yet
 * today). Not retried; where the app has a fallback (a range from stored history) it uses it.
 */
export class MissingDataError extends ProviderError {
  override name = 'MissingDataError';
  constructor(
    provider: string,
    readonly symbol: string,
    message: string,
  ) {
    super(provider, message);
  }
}
