import { z } from 'zod';
import type { CompanyProfile, FiftyTwoWeekRange, Quote } from '../domain/market-records.ts';
import { fanOut } from './fan-out.ts';
import type { ProviderHttp } from './http.ts';
import { type LiveProviderOptions, liveHttp } from './live-provider-options.ts';
import { createLogoDownload } from './logo-image.ts';
import { type MarketDataProvider, MissingDataError, UnknownSymbolError } from './provider.ts';
import { checkedRange, parseShape, price, tradeTime, unixSeconds } from './validate.ts';

const NAME = 'finnhub';

/**
 * Finnhub (https://finnhub.io/docs/api). No batch quote endpoint, so one request per symbol with bounded
 * concurrency. The key travels in the X-Finnhub-Token header, never in a URL that could reach a log.
 *
 * - `/quote` → `c` (current price) and `t` (trade time, Unix seconds). An unknown symbol answers all zeros.
 * - `/stock/profile2` → `name`, `logo`; an unknown symbol or a fund answers `{}` (monogram, ticker as name).
 *   The logo is an image on Finnhub's static host (static2.finnhub.io), downloaded and stored inline
 *   (logo-image.ts); only finnhub.io and its subdomains, or the configured host, are fetched.
 * - `/stock/metric?metric=all` → `metric["52WeekHigh"]`, `metric["52WeekLow"]`; absent for some symbols.
 */
export function createFinnhubProvider(options: LiveProviderOptions): MarketDataProvider {
  const http = liveHttp(NAME, options, { headers: { 'X-Finnhub-Token': options.apiKey ?? '' } });
  const now = () => options.clock.now();
  const { baseUrl, logger } = options;
  const downloadLogo = createLogoDownload({ http, baseUrl, logger, domains: ['finnhub.io'] });

  return {
    name: NAME,
    priceBatching: 'per-symbol',
    // Finnhub's candles (/stock/candle) answer "You don't have access to this resource." on the free plan.
    historyUnavailable:
      'Finnhub serves price history (/stock/candle) on paid plans only: no history is filled, the chart starts at the first live price',
    async getQuotes(symbols, fetchOptions = {}) {
      // With the trade stream connected, its latest trades are the prices: no request spent (a ticker that
      // has not traded since it connected has no new price, as on REST). While it is down, REST.
      const streamed = await options.trades?.latest(symbols);
      if (streamed) return { ok: streamed, failed: [] };
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) => {
        const { body } = await http.getJson('/quote', { symbol }, fetchOptions);
        return parseFinnhubQuote(http, symbol, body, now());
      });
    },
    getProfiles(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) => {
        const { body } = await http.getJson('/stock/profile2', { symbol }, fetchOptions);
        const profile = parseFinnhubProfile(http, symbol, body);
        const logoUrl = await downloadLogo(symbol, profile.logoUrl, fetchOptions);
        return { symbol, name: profile.name, logoUrl } satisfies CompanyProfile;
      });
    },
    getFiftyTwoWeekRanges(symbols, fetchOptions = {}) {
      return fanOut(symbols, options.concurrency, fetchOptions.signal, async (symbol) => {
        const { body } = await http.getJson('/stock/metric', { symbol, metric: 'all' }, fetchOptions);
        return parseFinnhubMetric(http, symbol, body);
      });
    },
  };
}

const quoteShape = z.object({
  c: z.number({ error: 'a number' }),
  t: z.number({ error: 'a number' }).nullish(),
});

export function parseFinnhubQuote(http: ProviderHttp, symbol: string, body: unknown, now: Date): Quote {
  const raw = parseShape(http, '/quote', quoteShape, body);
  // Finnhub's answer for a symbol it does not know: every field zero (or null), no error.
  if (raw.c === 0 && !raw.t) throw new UnknownSymbolError(NAME, symbol, '/quote answered all zeros');
  const { c, t } = parseShape(http, '/quote', z.object({ c: price, t: unixSeconds }), body);
  return { symbol, price: c, time: tradeTime(http, '/quote', t * 1000, now, body) };
}

const profileShape = z.object({
  name: z.string({ error: 'a company name' }).optional(),
  logo: z.string({ error: 'a logo URL' }).optional(),
});

/** The name and the logo image's URL (undefined when there is none) of a `/stock/profile2` answer. */
export function parseFinnhubProfile(
  http: ProviderHttp,
  symbol: string,
  body: unknown,
): { name: string; logoUrl: string | undefined } {
  const { name, logo } = parseShape(http, '/stock/profile2', profileShape, body);
  return { name: name?.trim() || symbol, logoUrl: logo && /^https?:\/\/\S+$/.test(logo) ? logo : undefined };
}

const metricShape = z.object({
  metric: z.object({
    '52WeekHigh': z.number({ error: 'a number' }).nullish(),
    '52WeekLow': z.number({ error: 'a number' }).nullish(),
  }),
});

export function parseFinnhubMetric(http: ProviderHttp, symbol: string, body: unknown): FiftyTwoWeekRange {
  const { metric } = parseShape(http, '/stock/metric', metricShape, body);
  const high = metric['52WeekHigh'];
  const low = metric['52WeekLow'];
  if (high == null || low == null) {
    throw new MissingDataError(NAME, symbol, `/stock/metric has no 52-week high/low for ${symbol}`);
  }
  return checkedRange(http, '/stock/metric', symbol, high, low, body);
}
