/**
 * The market-data boundary: the classic's StockFetcher (price, logo, 52-week high/low), batch-shaped so a
 * provider with batch endpoints answers many symbols in one call and the others fan out with bounded
 * concurrency inside their own file. Every call takes an AbortSignal so the caller owns the timeout.
 */

/** One price observation. `time` is the provider's own trade time where it has one. */
export interface Quote {
  symbol: string;
  price: number;
  time: Date;
}

export interface CompanyProfile {
  symbol: string;
  name: string;
  /** Absolute URL, or a path on this server (e.g. the monogram at /logos/AAPL.svg). */
  logoUrl: string;
}

export interface FiftyTwoWeekRange {
  symbol: string;
  high: number;
  low: number;
}

/**
 * What a batch call returns: the symbols that worked and, separately, the ones that failed with why. One
 * bad symbol must never cost the others their data, so a per-symbol fault is reported here, not thrown.
 * A fault that hits the whole call (the provider is down, rate-limited, the key is wrong) is thrown.
 */
export interface BatchResult<T> {
  ok: T[];
  failed: { symbol: string; error: Error }[];
}

export interface FetchOptions {
  signal?: AbortSignal;
}

export interface MarketDataProvider {
  /** The `PROVIDER` name, shown in logs and at start. */
  readonly name: string;
  getQuotes(symbols: readonly string[], options?: FetchOptions): Promise<BatchResult<Quote>>;
  getProfiles(symbols: readonly string[], options?: FetchOptions): Promise<BatchResult<CompanyProfile>>;
  getFiftyTwoWeekRanges(
    symbols: readonly string[],
    options?: FetchOptions,
  ): Promise<BatchResult<FiftyTwoWeekRange>>;
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

/** The provider does not know this symbol. Retrying cannot help: the job fails without retry. */
export class UnknownSymbolError extends ProviderError {
  override name = 'UnknownSymbolError';
  constructor(
    provider: string,
    readonly symbol: string,
  ) {
    super(provider, `unknown symbol ${symbol}`);
  }
}

/** The provider asked us to slow down. `retryAfterMs` is its stated window, when it gave one. */
export class ProviderRateLimitedError extends ProviderError {
  override name = 'ProviderRateLimitedError';
  constructor(
    provider: string,
    readonly retryAfterMs: number | undefined,
    message = 'rate limited',
  ) {
    super(provider, message);
  }
}

/** The provider answered something we cannot use (HTML, truncated JSON, wrong types, a negative price). */
export class InvalidProviderResponseError extends ProviderError {
  override name = 'InvalidProviderResponseError';
}

/** Throws if the signal has fired, so a loop over many symbols stops promptly when the job times out. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}
