import { z } from 'zod';
import type { Bar, CompanyProfile, FiftyTwoWeekRange, Quote } from '../domain/market-records.ts';
import { checkedBars } from './bars.ts';
import { fanOut, inBatches } from './fan-out.ts';
import type { ProviderHttp } from './http.ts';
import { type LiveProviderOptions, liveHttp } from './live-provider-options.ts';
import { createLogoDownload } from './logo-image.ts';
import {
  type BatchResult,
  InvalidProviderResponseError,
  type MarketDataProvider,
  MissingDataError,
  UnknownSymbolError,
} from './provider.ts';
import { checkedRange, parseShape, price, tradeTime } from './validate.ts';

const NAME = 'polygon';
const SNAPSHOT = '/v2/snapshot/locale/us/markets/stocks/tickers';
/** Tickers per snapshot request; keeps the URL well under common 8 KB limits. */
const SNAPSHOT_BATCH = 250;

/**
 * Polygon.io, now Massive (https://massive.com/docs). The key goes in `Authorization: Bearer …`.
 *
 * - price: the snapshot, batched (`?tickers=A,B,C`) → `tickers[].lastTrade.p`, trade time
 *   `lastTrade.t` (nanoseconds). A ticker it does not know is simply absent. Needs a paid plan; the free
 *   one answers 403 NOT_AUTHORIZED, reported as a key/plan problem.
 * - logo: `/v3/reference/tickers/{T}` → `results.name`, `results.branding.logo_url`. The image URL needs
 *   the key too, and handing the key to every browser that draws the page is not an option; like every
 *   provider's logo it is fetched here and stored inline (logo-image.ts), the monogram when there is none.
 * - 52-week: none as such; derived from a year of daily aggregates (`/v2/aggs/.../range/1/day/...`).
 */
export function createPolygonProvider(options: LiveProviderOptions): MarketDataProvider {
  const http = liveHttp(NAME, options, { headers: { Authorization: `Bearer ${options.apiKey ?? ''}` } });
  const now = () => options.clock.now();

  // The logo image URL needs the key too: it may only go where the API itself is, the configured host or
  // Polygon's and Massive's own.
  const { baseUrl, logger } = options;
  const downloadLogo = createLogoDownload({ http, baseUrl, logger, domains: ['polygon.io', 'massive.com'] });

  return {
    name: NAME,
    priceBatching: 'one-request',
    getQuotes(symbols, fetchOptions = {}) {
      return inBatches(symbols, SNAPSHOT_BATCH, async (batch) => {
        const { body } = await http.getJson(SNAPSHOT, { tickers: batch.join(',') }, fetchOptions);
        return parsePolygonSnapshot(http, batch, body, now());
      });
    },
    getProfiles(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) => {
        const endpoint = '/v3/reference/tickers';
        const { status, body } = await http.getJson(
          `${endpoint}/${encodeURIComponent(symbol)}`,
          {},
          { ...fetchOptions, isUnknownSymbol: isPolygonNotFound },
          endpoint,
        );
        const details = parsePolygonTickerDetails(http, symbol, status, body);
        const logoUrl = await downloadLogo(symbol, details.logoUrl, fetchOptions);
        return { symbol, name: details.name, logoUrl } satisfies CompanyProfile;
      });
    },
    getFiftyTwoWeekRanges(symbols, fetchOptions = {}) {
      const to = now();
      const from = new Date(to.getTime() - 365 * 86_400_000);
      const day = (d: Date) => d.toISOString().slice(0, 10);
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) => {
        const endpoint = '/v2/aggs/ticker/range/1/day';
        const { status, body } = await http.getJson(
          `/v2/aggs/ticker/${encodeURIComponent(symbol)}/range/1/day/${day(from)}/${day(to)}`,
          { adjusted: 'true', sort: 'asc', limit: '500' },
          { ...fetchOptions, isUnknownSymbol: isPolygonNotFound },
          endpoint,
        );
        return parsePolygonAggregates(http, symbol, status, body);
      });
    },
    historyKind: 'bars',
    // Minute aggregates, `from` and `to` in epoch milliseconds (the endpoint takes them as well as dates);
    // a day of minutes is ~960 bars with extended hours, far under the 50,000 limit.
    async getHistory(symbol, span, fetchOptions = {}) {
      const endpoint = '/v2/aggs/ticker/range/1/minute';
      const { status, body } = await http.getJson(
        `/v2/aggs/ticker/${encodeURIComponent(symbol)}/range/1/minute/${span.from.getTime()}/${span.to.getTime() - 1}`,
        { adjusted: 'true', sort: 'asc', limit: '50000' },
        { ...fetchOptions, isUnknownSymbol: isPolygonNotFound },
        endpoint,
      );
      return { bars: parsePolygonMinuteAggregates(http, symbol, status, body, span) };
    },
  };
}

const snapshotShape = z.object({
  status: z.string().optional(),
  tickers: z.array(z.object({ ticker: z.string() }).passthrough()).nullish(),
});
const snapshotTickerShape = z.object({
  ticker: z.string(),
  lastTrade: z.object({ p: price, t: z.number().positive() }),
});

export function parsePolygonSnapshot(
  http: ProviderHttp,
  symbols: readonly string[],
  body: unknown,
  now: Date,
): BatchResult<Quote> {
  const { tickers } = parseShape(http, SNAPSHOT, snapshotShape, body);
  const byTicker = new Map((tickers ?? []).map((t) => [t.ticker, t as unknown]));
  const result: BatchResult<Quote> = { ok: [], failed: [] };
  for (const symbol of symbols) {
    const item = byTicker.get(symbol);
    try {
      if (item === undefined) throw new UnknownSymbolError(NAME, symbol, `${SNAPSHOT} has no entry for it`);
      const lastTrade = (item as { lastTrade?: { p?: unknown } }).lastTrade;
      // Snapshots are cleared at 3:30 AM Eastern; before the first trade there is nothing to store.
      if (lastTrade === undefined || lastTrade.p === 0) {
        throw new MissingDataError(NAME, symbol, `${SNAPSHOT} has no trade yet for ${symbol}`);
      }
      const { lastTrade: trade } = parseShape(http, SNAPSHOT, snapshotTickerShape, item);
      // Nanoseconds since the epoch; milliseconds are all the database keeps.
      const ms = Math.floor(trade.t / 1e6);
      result.ok.push({ symbol, price: trade.p, time: tradeTime(http, SNAPSHOT, ms, now, item) });
    } catch (error) {
      result.failed.push({ symbol, error: error as Error });
    }
  }
  return result;
}

const detailsShape = z.object({
  results: z.object({
    name: z.string().optional(),
    branding: z.object({ logo_url: z.string().optional(), icon_url: z.string().optional() }).optional(),
  }),
});
const notFoundShape = z.object({ status: z.string(), message: z.string().optional() });

/** Polygon's own "no such ticker": `{"status":"NOT_FOUND", …}`. Any other 404 is a wrong path or base URL. */
export function isPolygonNotFound(body: unknown): boolean {
  const parsed = notFoundShape.safeParse(body);
  return parsed.success && parsed.data.status === 'NOT_FOUND';
}

export function parsePolygonTickerDetails(
  http: ProviderHttp,
  symbol: string,
  status: number,
  body: unknown,
): { name: string; logoUrl: string | undefined } {
  const endpoint = '/v3/reference/tickers';
  if (status === 404) {
    const parsed = notFoundShape.safeParse(body);
    throw new UnknownSymbolError(
      NAME,
      symbol,
      `${endpoint} answered 404 ${parsed.success ? `${parsed.data.status} ${parsed.data.message ?? ''}`.trim() : ''}`,
    );
  }
  if (status !== 200) {
    throw new InvalidProviderResponseError(
      NAME,
      `${endpoint} answered HTTP ${status}: ${http.excerpt(JSON.stringify(body))}`,
    );
  }
  const { results } = parseShape(http, endpoint, detailsShape, body);
  return {
    name: results.name?.trim() || symbol,
    logoUrl: results.branding?.logo_url ?? results.branding?.icon_url,
  };
}

const aggregatesShape = z.object({
  resultsCount: z.number().optional(),
  results: z.array(z.object({ h: price, l: price })).optional(),
});

const minuteAggregatesShape = z.object({
  results: z
    .array(
      z.object({
        t: z.number().int().positive(),
        o: price,
        h: price,
        l: price,
        c: price,
        v: z.number().nonnegative().optional(),
      }),
    )
    .nullish(),
});

/** Minute aggregates inside the span; no `results` (no trades, or before the plan's history) is no bars. */
export function parsePolygonMinuteAggregates(
  http: ProviderHttp,
  symbol: string,
  status: number,
  body: unknown,
  span: { from: Date; to: Date },
): Bar[] {
  const endpoint = '/v2/aggs/ticker/range/1/minute';
  if (status === 404) throw new UnknownSymbolError(NAME, symbol, `${endpoint} answered 404`);
  if (status !== 200) {
    throw new InvalidProviderResponseError(
      NAME,
      `${endpoint} answered HTTP ${status}: ${http.excerpt(JSON.stringify(body))}`,
    );
  }
  const { results } = parseShape(http, endpoint, minuteAggregatesShape, body);
  const answered = (results ?? []).map((r) => ({
    startMs: r.t,
    open: r.o,
    high: r.h,
    low: r.l,
    close: r.c,
    volume: r.v === undefined ? undefined : Math.round(r.v),
  }));
  return checkedBars(http, NAME, endpoint, symbol, answered, span);
}

export function parsePolygonAggregates(
  http: ProviderHttp,
  symbol: string,
  status: number,
  body: unknown,
): FiftyTwoWeekRange {
  const endpoint = '/v2/aggs/ticker/range/1/day';
  if (status === 404) throw new UnknownSymbolError(NAME, symbol, `${endpoint} answered 404`);
  if (status !== 200) {
    throw new InvalidProviderResponseError(
      NAME,
      `${endpoint} answered HTTP ${status}: ${http.excerpt(JSON.stringify(body))}`,
    );
  }
  const { results } = parseShape(http, endpoint, aggregatesShape, body);
  if (!results || results.length === 0) {
    throw new MissingDataError(NAME, symbol, `${endpoint} has no daily bars for ${symbol} in the last year`);
  }
  const high = Math.max(...results.map((bar) => bar.h));
  const low = Math.min(...results.map((bar) => bar.l));
  return checkedRange(http, endpoint, symbol, high, low, body);
}
