import { z } from 'zod';
import { newYorkInstant, newYorkMonth } from '../domain/market-calendar.ts';
import type { Bar, CompanyProfile, FiftyTwoWeekRange, Quote } from '../domain/market-records.ts';
import { monogramPath } from '../domain/monogram.ts';
import { type AnsweredBar, checkedBars } from './bars.ts';
import { fanOut } from './fan-out.ts';
import type { ProviderHttp } from './http.ts';
import { type LiveProviderOptions, liveHttp } from './live-provider-options.ts';
import {
  type FetchOptions,
  HistoryUnavailableError,
  type MarketDataProvider,
  MissingDataError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitedError,
  UnknownSymbolError,
} from './provider.ts';
import { checkedRange, decimalString, parseShape, priceString, wholeSecond } from './validate.ts';

const NAME = 'alphavantage';
/** How long one OVERVIEW answer serves both jobs: a cycle's two jobs start together; the data is daily. */
export const OVERVIEW_REUSE_MS = 10 * 60_000;
/** How long a plan's refusal of the intraday series is believed: a plan changes rarely, a key daily at most. */
export const INTRADAY_REFUSAL_MS = 86_400_000;

/**
 * Alpha Vantage (https://www.alphavantage.co/documentation/). One symbol per request (the bulk quote is a
 * premium endpoint), bounded concurrency, and the key only in the query string (never shown in errors).
 * Every answer is HTTP 200: a rate limit comes as `{"Note": …}` or `{"Information": …}` instead of data,
 * a bad key as `{"Error Message": …}`.
 *
 * - `GLOBAL_QUOTE` → `"Global Quote"["05. price"]`; an unknown symbol answers `"Global Quote": {}`. There
 *   is no trade time (only the trading day), so quotes are stamped with the fetch time to the second.
 * - `OVERVIEW` → `Name`, `52WeekHigh`, `52WeekLow` (funds answer `{}`). No logos: the app's monogram.
 *   The profile and 52-week jobs both read it, on the same default interval: one answer serves both for
 *   OVERVIEW_REUSE_MS, which halves what a cycle spends of a tight daily request allowance.
 * - `TIME_SERIES_INTRADAY` (`interval=1min`, `month=YYYY-MM`, `outputsize=full`, regular session only) →
 *   `"Time Series (1min)"`, keyed by the bar's start in New York time ("2026-12-04 15:59:00"). Premium
 *   only: a free key answers `{"Information": "… premium endpoint …"}`, which is no fault to retry but the
 *   plan's answer: HistoryUnavailableError, believed for INTRADAY_REFUSAL_MS.
 */
export function createAlphaVantageProvider(options: LiveProviderOptions): MarketDataProvider {
  const http = liveHttp(NAME, options, { query: { apikey: options.apiKey ?? '' } });

  const query = async (fn: string, symbol: string, fetchOptions: FetchOptions) => {
    const endpoint = `/query?function=${fn}`;
    const { body } = await http.getJson('/query', { function: fn, symbol }, fetchOptions, endpoint);
    throwIfNotData(http, endpoint, body, options.clock.now().getTime());
    return body;
  };
  // Per symbol, the OVERVIEW request made last (in flight or answered) and when. A failed one is forgotten,
  // so the other job asks again rather than inherit its error.
  const overviews = new Map<string, { at: number; body: Promise<unknown> }>();
  const overview = (symbol: string, fetchOptions: FetchOptions) => {
    const now = options.clock.now().getTime();
    const kept = overviews.get(symbol);
    if (kept && now - kept.at < OVERVIEW_REUSE_MS) return kept.body;
    for (const [key, entry] of overviews) if (now - entry.at >= OVERVIEW_REUSE_MS) overviews.delete(key);
    const body = query('OVERVIEW', symbol, fetchOptions);
    overviews.set(symbol, { at: now, body });
    body.catch(() => {
      if (overviews.get(symbol)?.body === body) overviews.delete(symbol);
    });
    return body;
  };

  const intraday = async (symbol: string, month: string, fetchOptions: FetchOptions) => {
    const endpoint = '/query?function=TIME_SERIES_INTRADAY';
    const { body } = await http.getJson(
      '/query',
      {
        function: 'TIME_SERIES_INTRADAY',
        symbol,
        interval: '1min',
        month,
        outputsize: 'full',
        extended_hours: 'false',
      },
      fetchOptions,
      endpoint,
    );
    const information = messageShape.safeParse(body).data?.Information;
    if (information !== undefined && isPremiumRefusal(information)) {
      throw new HistoryUnavailableError(
        NAME,
        `${endpoint} is premium-only on this plan, so no history is filled (the chart starts at the first live price): ${http.excerpt(information)}`,
        INTRADAY_REFUSAL_MS,
      );
    }
    throwIfNotData(http, endpoint, body, options.clock.now().getTime());
    return body;
  };

  return {
    name: NAME,
    priceBatching: 'per-symbol',
    historyKind: 'bars',
    // A month of minute bars per request (the endpoint's own unit); a span that straddles two New York
    // months (a day piece's evening in UTC) asks both.
    async getHistory(symbol, span, fetchOptions = {}) {
      const months = [...new Set([newYorkMonth(span.from.getTime()), newYorkMonth(span.to.getTime() - 1)])];
      const bars: Bar[] = [];
      for (const month of months) {
        bars.push(
          ...parseAlphaVantageIntraday(http, symbol, await intraday(symbol, month, fetchOptions), span),
        );
      }
      return { bars: bars.sort((a, b) => a.start.getTime() - b.start.getTime()) };
    },
    getQuotes(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) =>
        parseAlphaVantageQuote(
          http,
          symbol,
          await query('GLOBAL_QUOTE', symbol, fetchOptions),
          options.clock.now(),
        ),
      );
    },
    getProfiles(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) =>
        parseAlphaVantageProfile(http, symbol, await overview(symbol, fetchOptions)),
      );
    },
    getFiftyTwoWeekRanges(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) =>
        parseAlphaVantageRange(http, symbol, await overview(symbol, fetchOptions)),
      );
    },
  };
}

const messageShape = z.object({
  Note: z.string().optional(),
  Information: z.string().optional(),
  'Error Message': z.string().optional(),
});

/**
 * Turns Alpha Vantage's in-body messages into errors. Its rate-limit wording has changed over the years
 * (`Note` with "5 calls per minute", `Information` with "25 requests per day" — also sent for the burst
 * limit of about one request a second), so any `Note`/`Information` without data counts as a rate limit,
 * except the one that says the endpoint is premium (a plan problem, like a bad key).
 */
function throwIfNotData(http: ProviderHttp, endpoint: string, body: unknown, nowMs: number): void {
  const parsed = messageShape.safeParse(body);
  if (!parsed.success) return;
  const { Note: note, Information: information, 'Error Message': errorMessage } = parsed.data;
  if (errorMessage !== undefined) {
    const text = `${endpoint} answered "Error Message": ${http.excerpt(errorMessage)}`;
    if (/apikey|api key/i.test(errorMessage)) throw new ProviderAuthError(NAME, text);
    throw new ProviderError(NAME, text);
  }
  const message = note ?? information;
  if (message === undefined) return;
  const text = `${endpoint} answered "${note !== undefined ? 'Note' : 'Information'}": ${http.excerpt(message)}`;
  if (isPremiumRefusal(message)) {
    throw new ProviderAuthError(NAME, text);
  }
  throw new ProviderRateLimitedError(NAME, alphaVantageWaitMs(message, nowMs), text);
}

/** The "premium endpoint" answer, told apart from rate-limit wording that mentions premium plans. */
function isPremiumRefusal(message: string): boolean {
  return /premium endpoint/i.test(message) && !/rate limit|requests per|calls per|sparingly/i.test(message);
}

/**
 * The window an Alpha Vantage rate-limit message states: a second for the burst limit, otherwise until
 * the next minute (plus a second for clock skew). A per-day message is also what the burst limit answers,
 * so it does not stop the queues for a day; the request budget (25/day by default) is what keeps the daily
 * allowance.
 */
export function alphaVantageWaitMs(message: string, nowMs: number): number {
  if (/per second|a second/i.test(message)) return 1000;
  return 60_000 - (nowMs % 60_000) + 1000;
}

const quoteShape = z.object({ 'Global Quote': z.record(z.string(), z.unknown()) });
const priceShape = z.object({ 'Global Quote': z.object({ '05. price': priceString }) });

export function parseAlphaVantageQuote(http: ProviderHttp, symbol: string, body: unknown, now: Date): Quote {
  const endpoint = '/query?function=GLOBAL_QUOTE';
  const quote = parseShape(http, endpoint, quoteShape, body)['Global Quote'];
  if (Object.keys(quote).length === 0) {
    throw new UnknownSymbolError(NAME, symbol, `${endpoint} answered an empty "Global Quote"`);
  }
  const parsed = parseShape(http, endpoint, priceShape, body);
  return { symbol, price: parsed['Global Quote']['05. price'], time: wholeSecond(now) };
}

const overviewShape = z.object({
  Symbol: z.string().optional(),
  Name: z.string().optional(),
  '52WeekHigh': z.string().optional(),
  '52WeekLow': z.string().optional(),
});

export function parseAlphaVantageProfile(http: ProviderHttp, symbol: string, body: unknown): CompanyProfile {
  const overview = parseShape(http, '/query?function=OVERVIEW', overviewShape, body);
  return { symbol, name: overview.Name?.trim() || symbol, logoUrl: monogramPath(symbol) };
}

export function parseAlphaVantageRange(http: ProviderHttp, symbol: string, body: unknown): FiftyTwoWeekRange {
  const endpoint = '/query?function=OVERVIEW';
  const overview = parseShape(http, endpoint, overviewShape, body);
  const high = overview['52WeekHigh'];
  const low = overview['52WeekLow'];
  // Funds answer {}, and some fields read "None" or "-" when Alpha Vantage has no figure.
  if (high === undefined || low === undefined || !/\d/.test(high) || !/\d/.test(low)) {
    throw new MissingDataError(NAME, symbol, `${endpoint} has no 52-week high/low for ${symbol}`);
  }
  const range = parseShape(
    http,
    endpoint,
    z.object({ '52WeekHigh': decimalString, '52WeekLow': decimalString }),
    body,
  );
  return checkedRange(http, endpoint, symbol, range['52WeekHigh'], range['52WeekLow'], body);
}

const intradayShape = z.object({
  'Time Series (1min)': z.record(
    z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
    z.object({
      '1. open': priceString,
      '2. high': priceString,
      '3. low': priceString,
      '4. close': priceString,
      '5. volume': z.string().regex(/^\d+$/).transform(Number),
    }),
  ),
});

/**
 * The minute bars of an intraday answer that start inside `span`. Alpha Vantage keys each bar by its
 * start in New York wall-clock time ("6. Time Zone": "US/Eastern"), converted here to the instant.
 */
export function parseAlphaVantageIntraday(
  http: ProviderHttp,
  symbol: string,
  body: unknown,
  span: { from: Date; to: Date },
): Bar[] {
  const endpoint = '/query?function=TIME_SERIES_INTRADAY';
  const series = parseShape(http, endpoint, intradayShape, body)['Time Series (1min)'];
  const answered: AnsweredBar[] = Object.entries(series).map(([wall, bar]) => {
    const [date, clock] = wall.split(' ') as [string, string];
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    const [hour, minute] = clock.split(':').map(Number) as [number, number];
    return {
      startMs: newYorkInstant(year, month, day, hour * 60 + minute),
      open: bar['1. open'],
      high: bar['2. high'],
      low: bar['3. low'],
      close: bar['4. close'],
      volume: bar['5. volume'],
    };
  });
  return checkedBars(http, NAME, endpoint, symbol, answered, span);
}
