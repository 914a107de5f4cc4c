import { z } from 'zod';
import type { Bar } from '../domain/market-records.ts';
import { monogramPath } from '../domain/monogram.ts';
import { checkedBars } from './bars.ts';
import { fanOut, inBatches } from './fan-out.ts';
import type { ProviderHttp } from './http.ts';
import { type LiveProviderOptions, liveHttp } from './live-provider-options.ts';
import { createLogoDownload } from './logo-image.ts';
import {
  type BatchResult,
  type FetchOptions,
  InvalidProviderResponseError,
  type MarketDataProvider,
  MissingDataError,
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitedError,
  ProviderUnavailableError,
  UnknownSymbolError,
} from './provider.ts';
import { checkedRange, decimalString, parseShape, priceString, tradeTime, unixSeconds } from './validate.ts';

const NAME = 'twelvedata';
/** Twelve Data's documented ceiling for one batch request. */
const MAX_BATCH = 120;

/**
 * Twelve Data (https://twelvedata.com/docs). `/quote` takes comma-separated symbols and answers one object
 * per symbol (keyed by symbol when there are several), so prices and 52-week ranges are one request per
 * batch; each symbol still costs one API credit, and the budget is charged that weight. Errors come in
 * the body as `{"status":"error","code":…}`, often with HTTP 200: 429 means out of credits for the current
 * minute, 401/403 a bad key or plan, 400/404 an unknown symbol. The key goes in `Authorization: apikey …`.
 *
 * - `/quote` → `close`, `last_quote_at` (Unix seconds of the last minute candle), `name`,
 *   `fifty_two_week.high/.low` — numbers as strings.
 * - `/logo` → `url`, one symbol per request: an image on Twelve Data's own host (api.twelvedata.com/logo/…),
 *   downloaded and stored inline (logo-image.ts); only twelvedata.com and its subdomains, or the
 *   configured host, are fetched.
 */
export function createTwelveDataProvider(options: LiveProviderOptions): MarketDataProvider {
  const http = liveHttp(NAME, options, { headers: { Authorization: `apikey ${options.apiKey ?? ''}` } });
  const now = () => options.clock.now();
  const { baseUrl, logger } = options;
  const downloadLogo = createLogoDownload({ http, baseUrl, logger, domains: ['twelvedata.com'] });

  /** Runs `/quote` over the symbols in budget-sized batches and parses each symbol's object. */
  async function quoteBatches<T>(
    symbols: readonly string[],
    fetchOptions: FetchOptions,
    parse: (symbol: string, item: unknown) => T,
  ): Promise<BatchResult<T>> {
    // No batch may weigh more than its share of the budget can ever grant.
    const share = fetchOptions.budget?.maxWeight(fetchOptions.lane ?? 'price') ?? MAX_BATCH;
    const batchSize = Math.max(1, Math.min(MAX_BATCH, share));
    // A later batch rate-limited after an earlier one worked: inBatches keeps what came, reports the rest.
    return inBatches(symbols, batchSize, async (batch) => {
      const items = await fetchQuoteBatch(http, batch, fetchOptions, now().getTime());
      const result: BatchResult<T> = { ok: [], failed: [] };
      for (const symbol of batch) {
        try {
          const item = items.get(symbol);
          if (item === undefined) {
            throw new InvalidProviderResponseError(NAME, `/quote answered no entry for ${symbol}`);
          }
          throwIfError(http, '/quote', item, now().getTime(), symbol);
          result.ok.push(parse(symbol, item));
        } catch (error) {
          // Out of credits or a bad key is the whole request's fault, even when it came per symbol.
          if (error instanceof ProviderRateLimitedError || error instanceof ProviderAuthError) throw error;
          result.failed.push({ symbol, error: error as Error });
        }
      }
      return result;
    });
  }

  return {
    name: NAME,
    priceBatching: 'credits',
    getQuotes(symbols, fetchOptions = {}) {
      return quoteBatches(symbols, fetchOptions, (symbol, item) => {
        const quote = parseShape(http, '/quote', quoteShape, item);
        const seconds = quote.last_quote_at ?? quote.timestamp;
        return {
          symbol,
          price: quote.close,
          time: tradeTime(http, '/quote', seconds * 1000, now(), item),
        };
      });
    },
    async getProfiles(symbols, fetchOptions = {}) {
      // Names come with the quote batch; logos need one `/logo` request per symbol.
      const names = await quoteBatches(symbols, fetchOptions, (symbol, item) => ({
        symbol,
        name: parseShape(http, '/quote', nameShape, item).name?.trim() || symbol,
      }));
      const logos = await fanOut(
        names.ok.map((n) => n.symbol),
        options.concurrency,
        fetchOptions.signal,
        async (symbol) => {
          const { body } = await http.getJson('/logo', { symbol }, fetchOptions);
          try {
            throwIfError(http, '/logo', body, now().getTime(), symbol);
          } catch (error) {
            // The quote knew the symbol; no logo for it is not an unknown symbol, just the monogram.
            if (error instanceof UnknownSymbolError) return { symbol, logoUrl: monogramPath(symbol) };
            throw error;
          }
          const { url } = parseShape(http, '/logo', logoShape, body);
          return { symbol, logoUrl: await downloadLogo(symbol, url, fetchOptions) };
        },
      );
      const byName = new Map(names.ok.map((n) => [n.symbol, n.name]));
      return {
        ok: logos.ok.map((l) => ({
          symbol: l.symbol,
          name: byName.get(l.symbol)!,
          logoUrl: l.logoUrl,
        })),
        failed: [...names.failed, ...logos.failed],
      };
    },
    getFiftyTwoWeekRanges(symbols, fetchOptions = {}) {
      return quoteBatches(symbols, fetchOptions, (symbol, item) => {
        const { fifty_two_week: range } = parseShape(http, '/quote', rangeShape, item);
        if (!range?.high || !range?.low) {
          throw new MissingDataError(NAME, symbol, `/quote has no fifty_two_week range for ${symbol}`);
        }
        return checkedRange(http, '/quote', symbol, range.high, range.low, item);
      });
    },
    historyKind: 'bars',
    // Minute bars from `/time_series` (interval=1min), times asked and answered in UTC; a day of a
    // session is 390 bars, under the 5,000 one answer holds. One credit per request.
    async getHistory(symbol, span, fetchOptions = {}) {
      const utc = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
      const { body } = await http.getJson(
        '/time_series',
        {
          symbol,
          interval: '1min',
          start_date: utc(span.from),
          end_date: utc(span.to),
          timezone: 'UTC',
          order: 'asc',
          outputsize: '5000',
        },
        fetchOptions,
      );
      return { bars: parseTwelveDataTimeSeries(http, symbol, body, span, now().getTime()) };
    },
  };
}

const timeSeriesShape = z.object({
  values: z
    .array(
      z.object({
        datetime: z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'a UTC "YYYY-MM-DD HH:MM:SS"'),
        open: priceString,
        high: priceString,
        low: priceString,
        close: priceString,
        volume: decimalString.optional(),
      }),
    )
    .optional(),
});

/**
 * The minute bars of a `/time_series` answer inside the span. Twelve Data says "no data" for a span
 * without trades as an error with code 400: that is no bars, not an unknown symbol (the quote knew it).
 */
export function parseTwelveDataTimeSeries(
  http: ProviderHttp,
  symbol: string,
  body: unknown,
  span: { from: Date; to: Date },
  nowMs: number,
): Bar[] {
  const endpoint = '/time_series';
  const answer = body as { status?: string; message?: string };
  if (answer?.status === 'error' && /no data is available/i.test(answer.message ?? '')) return [];
  throwIfError(http, endpoint, body, nowMs, symbol);
  const { values } = parseShape(http, endpoint, timeSeriesShape, body);
  return checkedBars(
    http,
    NAME,
    endpoint,
    symbol,
    (values ?? []).map((v) => ({
      startMs: Date.parse(`${v.datetime.replace(' ', 'T')}Z`),
      open: v.open,
      high: v.high,
      low: v.low,
      close: v.close,
      volume: v.volume === undefined ? undefined : Math.round(v.volume),
    })),
    span,
  );
}

const errorShape = z.object({
  status: z.literal('error'),
  code: z.number().optional(),
  message: z.string().optional(),
});

/**
 * Throws the error a Twelve Data error object stands for. Out of credits, a bad key and server errors are
 * the whole request's; 400/404 given a `symbol` mean that symbol is unknown.
 */
function throwIfError(
  http: ProviderHttp,
  endpoint: string,
  body: unknown,
  nowMs: number,
  symbol?: string,
): void {
  const parsed = errorShape.safeParse(body);
  if (!parsed.success) return;
  const { code, message = '' } = parsed.data;
  const text = `${endpoint} answered code ${code ?? '?'}: ${http.excerpt(message)}`;
  if (code === 429) throw new ProviderRateLimitedError(NAME, twelveDataWaitMs(message, nowMs), text);
  if (code === 401 || code === 403) throw new ProviderAuthError(NAME, text);
  if ((code === 400 || code === 404) && symbol) throw new UnknownSymbolError(NAME, symbol, text);
  if (code !== undefined && code >= 500) throw new ProviderUnavailableError(NAME, text);
  throw new ProviderError(NAME, text);
}

/**
 * Twelve Data states its window in words: credits "for the current minute" come back at the next minute
 * (plus a second of margin against clock skew); a daily allowance at the next UTC midnight.
 */
export function twelveDataWaitMs(message: string, nowMs: number): number {
  if (/\bday\b|daily/i.test(message)) {
    const midnight = new Date(nowMs);
    midnight.setUTCHours(24, 0, 0, 0);
    return midnight.getTime() - nowMs + 1000;
  }
  return 60_000 - (nowMs % 60_000) + 1000;
}

/** One `/quote` request for a batch, as a map from symbol to that symbol's object. */
async function fetchQuoteBatch(
  http: ProviderHttp,
  batch: readonly string[],
  fetchOptions: FetchOptions,
  nowMs: number,
): Promise<Map<string, unknown>> {
  const { body } = await http.getJson(
    '/quote',
    { symbol: batch.join(',') },
    { ...fetchOptions, weight: batch.length },
  );
  if (batch.length === 1) {
    // One symbol: the answer is that symbol's object (or its error), not keyed by symbol.
    return new Map([[batch[0]!, body]]);
  }
  // Several symbols: keyed by symbol, unless the whole request failed (out of credits, bad key).
  throwIfError(http, '/quote', body, nowMs);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidProviderResponseError(
      NAME,
      `/quote answered an unusable body (wanted an object keyed by symbol): ${http.excerpt(JSON.stringify(body))}`,
    );
  }
  return new Map(Object.entries(body));
}

const quoteShape = z.object({
  close: priceString,
  timestamp: unixSeconds,
  last_quote_at: unixSeconds.optional(),
});
const nameShape = z.object({ name: z.string().optional() });
const logoShape = z.object({ url: z.string().optional() });
const rangeShape = z.object({
  fifty_two_week: z.object({ high: decimalString.optional(), low: decimalString.optional() }).optional(),
});
