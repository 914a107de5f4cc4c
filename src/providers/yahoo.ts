import { z } from 'zod';
import type { Bar, CompanyProfile, FiftyTwoWeekRange, Quote } from '../domain/market-records.ts';
import { monogramPath } from '../domain/monogram.ts';
import { type AnsweredBar, checkedBars } from './bars.ts';
import { fanOut } from './fan-out.ts';
import type { ProviderHttp } from './http.ts';
import { type LiveProviderOptions, liveHttp } from './live-provider-options.ts';
import {
  type FetchOptions,
  InvalidProviderResponseError,
  type MarketDataProvider,
  MissingDataError,
  UnknownSymbolError,
} from './provider.ts';
import { checkedRange, parseShape, price, tradeTime, unixSeconds } from './validate.ts';

const NAME = 'yahoo';

/**
 * Yahoo Finance's chart endpoint (unofficial: no key, no documented limits, no batch without a session
 * cookie), one symbol per request with bounded concurrency. It refuses requests without a browser-like
 * User-Agent. Everything comes from `chart.result[0].meta`; an unknown symbol answers 404 with
 * `chart.error.code: "Not Found"`.
 *
 * - price: `regularMarketPrice`, trade time `regularMarketTime` (Unix seconds)
 * - name: `longName` / `shortName`; no logos, so the app's monogram
 * - 52-week: `fiftyTwoWeekHigh` / `fiftyTwoWeekLow`, asked over a year of daily bars so that when they are
 *   missing or inconsistent the range is derived from those bars instead.
 */
export function createYahooProvider(options: LiveProviderOptions): MarketDataProvider {
  const http = liveHttp(NAME, options, {
    headers: { 'User-Agent': 'Mozilla/5.0 (compatible; stockstreamer/0.1)' },
  });
  const chart = async (symbol: string, range: string, fetchOptions: FetchOptions) => {
    const { status, body } = await http.getJson(
      `/v8/finance/chart/${encodeURIComponent(symbol)}`,
      { range, interval: '1d' },
      { ...fetchOptions, isUnknownSymbol: isYahooNotFound },
      '/v8/finance/chart',
    );
    return parseYahooChart(http, symbol, status, body);
  };

  return {
    name: NAME,
    priceBatching: 'per-symbol',
    getQuotes(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) =>
        yahooQuote(http, symbol, await chart(symbol, '1d', fetchOptions), options.clock.now()),
      );
    },
    getProfiles(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) =>
        yahooProfile(symbol, await chart(symbol, '1d', fetchOptions)),
      );
    },
    getFiftyTwoWeekRanges(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) =>
        yahooRange(http, symbol, await chart(symbol, '1y', fetchOptions)),
      );
    },
    historyKind: 'bars',
    // Bars of the regular session (period1/period2 in Unix seconds), as fine as Yahoo keeps them for the
    // span's age (yahooInterval): minutes for about 30 days, then 5 minutes, hours, days. It answers at
    // most 7 days of minute bars per request; the history jobs ask a day at a time.
    async getHistory(symbol, span, fetchOptions = {}) {
      const { interval, seconds } = yahooInterval(span.from.getTime(), options.clock.now().getTime());
      const { status, body } = await http.getJson(
        `/v8/finance/chart/${encodeURIComponent(symbol)}`,
        {
          interval,
          period1: String(Math.floor(span.from.getTime() / 1000)),
          period2: String(Math.floor(span.to.getTime() / 1000)),
          includePrePost: 'false',
        },
        { ...fetchOptions, isUnknownSymbol: isYahooNotFound },
        '/v8/finance/chart',
      );
      // 422 "Unprocessable Entity": Yahoo no longer keeps that interval so far back (its limits are
      // approximate). No retry can help; the span stays a gap the chart shows.
      if (status === 422 && isYahooUnprocessable(body)) return { bars: [] };
      parseYahooChart(http, symbol, status, body);
      return { bars: parseYahooBars(http, symbol, body, span, seconds) };
    },
  };
}

const chartShape = z.object({
  chart: z.object({
    result: z.array(z.unknown()).nullable().optional(),
    error: z
      .object({ code: z.string().optional(), description: z.string().optional() })
      .nullable()
      .optional(),
  }),
});

const resultShape = z.object({
  meta: z.object({
    regularMarketPrice: z.number().optional(),
    regularMarketTime: z.number().optional(),
    fiftyTwoWeekHigh: z.number().optional(),
    fiftyTwoWeekLow: z.number().optional(),
    longName: z.string().optional(),
    shortName: z.string().optional(),
  }),
  indicators: z
    .object({
      quote: z
        .array(
          z.object({
            high: z.array(z.number().nullable()).optional(),
            low: z.array(z.number().nullable()).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/**
 * Yahoo's chart intervals by how far back it keeps them: minute bars about 30 days, 5-minute bars 60
 * days, hourly bars 730 days, daily bars further (a day less each, for its clock and ours).
 */
const YAHOO_INTERVALS = [
  { maxAgeDays: 29, interval: '1m', seconds: 60 },
  { maxAgeDays: 59, interval: '5m', seconds: 300 },
  { maxAgeDays: 729, interval: '1h', seconds: 3600 },
  { maxAgeDays: Number.POSITIVE_INFINITY, interval: '1d', seconds: 86_400 },
] as const;

/** The finest interval Yahoo serves for a span starting at `fromMs`, at `nowMs`. */
export function yahooInterval(fromMs: number, nowMs: number): (typeof YAHOO_INTERVALS)[number] {
  const ageDays = (nowMs - fromMs) / 86_400_000;
  return YAHOO_INTERVALS.find((choice) => ageDays <= choice.maxAgeDays) ?? YAHOO_INTERVALS[3];
}

const minuteBarsShape = z.object({
  chart: z.object({
    result: z.tuple([
      z.object({
        timestamp: z.array(unixSeconds).optional(),
        indicators: z.object({
          quote: z.tuple([
            z.object({
              open: z.array(price.nullable()),
              high: z.array(price.nullable()),
              low: z.array(price.nullable()),
              close: z.array(price.nullable()),
              volume: z.array(z.number().int().nonnegative().nullable()).optional(),
            }),
          ]),
        }),
      }),
    ]),
  }),
});

/**
 * The bars of a chart answer inside [from, to), each `intervalS` long. An interval without trades (nulls)
 * has no bar.
 */
export function parseYahooBars(
  http: ProviderHttp,
  symbol: string,
  body: unknown,
  { from, to }: { from: Date; to: Date },
  intervalS: number,
): Bar[] {
  const endpoint = '/v8/finance/chart';
  const result = parseShape(http, endpoint, minuteBarsShape, body).chart.result[0];
  const q = result.indicators.quote[0];
  const answered: AnsweredBar[] = [];
  for (const [i, seconds] of (result.timestamp ?? []).entries()) {
    const [open, high, low, close] = [q.open[i], q.high[i], q.low[i], q.close[i]];
    if (open == null || high == null || low == null || close == null) continue;
    answered.push({ startMs: seconds * 1000, open, high, low, close, volume: q.volume?.[i] });
  }
  return checkedBars(http, NAME, endpoint, symbol, answered, { from, to }, intervalS);
}

/** Yahoo's answer to an interval it does not keep that far back: 422, `chart.error.code` "Unprocessable Entity". */
export function isYahooUnprocessable(body: unknown): boolean {
  const parsed = chartShape.safeParse(body);
  return parsed.success && parsed.data.chart.error?.code === 'Unprocessable Entity';
}

/** Yahoo's own "no such symbol": `chart.error.code` "Not Found". Any other 404 is a wrong path or base URL. */
export function isYahooNotFound(body: unknown): boolean {
  const parsed = chartShape.safeParse(body);
  return parsed.success && parsed.data.chart.error?.code === 'Not Found';
}

type ChartResult = z.output<typeof resultShape> & { body: unknown };

export function parseYahooChart(
  http: ProviderHttp,
  symbol: string,
  status: number,
  body: unknown,
): ChartResult {
  const endpoint = '/v8/finance/chart';
  const { chart } = parseShape(http, endpoint, chartShape, body);
  if (chart.error) {
    const detail = `${endpoint} answered ${status} ${chart.error.code ?? ''}: ${http.excerpt(chart.error.description ?? '')}`;
    if (status === 404 || chart.error.code === 'Not Found')
      throw new UnknownSymbolError(NAME, symbol, detail);
    throw new InvalidProviderResponseError(NAME, detail);
  }
  if (status !== 200 || !chart.result || chart.result.length === 0) {
    throw new InvalidProviderResponseError(
      NAME,
      `${endpoint} answered HTTP ${status} without a result: ${http.excerpt(JSON.stringify(body))}`,
    );
  }
  return { ...parseShape(http, endpoint, resultShape, chart.result[0]), body };
}

export function yahooQuote(http: ProviderHttp, symbol: string, result: ChartResult, now: Date): Quote {
  const endpoint = '/v8/finance/chart';
  const meta = parseShape(
    http,
    endpoint,
    z.object({ regularMarketPrice: price, regularMarketTime: unixSeconds }),
    result.meta,
  );
  return {
    symbol,
    price: meta.regularMarketPrice,
    time: tradeTime(http, endpoint, meta.regularMarketTime * 1000, now, result.body),
  };
}

export function yahooProfile(symbol: string, result: ChartResult): CompanyProfile {
  const name = result.meta.longName?.trim() || result.meta.shortName?.trim() || symbol;
  return { symbol, name, logoUrl: monogramPath(symbol) };
}

export function yahooRange(http: ProviderHttp, symbol: string, result: ChartResult): FiftyTwoWeekRange {
  const endpoint = '/v8/finance/chart';
  const { fiftyTwoWeekHigh: high, fiftyTwoWeekLow: low } = result.meta;
  if (high !== undefined && low !== undefined && low > 0 && high >= low) {
    return checkedRange(http, endpoint, symbol, high, low, result.body);
  }
  // Derived from the year of daily bars that came with the answer.
  const bars = result.indicators?.quote?.[0];
  const highs = (bars?.high ?? []).filter((v): v is number => v !== null && v > 0);
  const lows = (bars?.low ?? []).filter((v): v is number => v !== null && v > 0);
  if (highs.length === 0 || lows.length === 0) {
    throw new MissingDataError(NAME, symbol, `${endpoint} has no 52-week range or daily bars for ${symbol}`);
  }
  return checkedRange(http, endpoint, symbol, Math.max(...highs), Math.min(...lows), result.body);
}
