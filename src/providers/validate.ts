import { z } from 'zod';
import { TICKER_PATTERN } from '../domain/symbols.ts';
import { MAX_PRICE, type Tick } from '../domain/tick.ts';
import type { ProviderHttp } from './http.ts';
import { InvalidProviderResponseError } from './provider.ts';

/**
 * Shapes shared by the provider files. Every answer is parsed against a schema before anything is taken
 * from it, so wrong types, missing fields, negative or non-numeric prices are refused with an error that
 * names the provider, the endpoint, the offending field and an excerpt; none of it reaches the database.
 */

/** A price as a JSON number: finite, above zero and below MAX_PRICE. */
export const price = z
  .number({ error: 'a number' })
  .finite('a finite number')
  .positive('a price above zero')
  .max(MAX_PRICE, `a price up to $${MAX_PRICE.toLocaleString('en-US')}`);

/** A number sent as a string (Twelve Data, Alpha Vantage): "189.8400" yes, "NaN", "None", "-" no. */
export const decimalString = z
  .string({ error: 'a number in a string' })
  .trim()
  .regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, 'a number in a string')
  .transform(Number);

export const priceString = decimalString.pipe(price);

/** Unix seconds as a whole number. */
export const unixSeconds = z.number({ error: 'a Unix time in seconds' }).int().positive();

/** Parses `body` with `schema`, or throws naming the endpoint, the first bad field and an excerpt. */
export function parseShape<S extends z.ZodType>(
  http: ProviderHttp,
  endpoint: string,
  schema: S,
  body: unknown,
): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new InvalidProviderResponseError(
    http.provider,
    `${endpoint} answered an unusable ${field} (wanted ${issue.message}): ${http.excerpt(JSON.stringify(body) ?? '')}`,
  );
}

const EARLIEST_TRADE = Date.UTC(2000, 0, 1);
const MAX_CLOCK_SKEW_MS = 86_400_000;

/**
 * A trade time from the provider, checked against `now`: a time before 2000 or more than a day ahead is
 * garbage (a milliseconds/seconds mix-up, a zero), and storing it would put a point far off the chart.
 */
export function tradeTime(http: ProviderHttp, endpoint: string, ms: number, now: Date, body: unknown): Date {
  if (!isPlausibleTradeTime(ms, now)) {
    throw new InvalidProviderResponseError(
      http.provider,
      `${endpoint} answered an implausible trade time ${Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)}: ${http.excerpt(JSON.stringify(body) ?? '')}`,
    );
  }
  return new Date(ms);
}

/** Not before 2000 and at most a day ahead of `now`. */
function isPlausibleTradeTime(ms: number, now: Date): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_TRADE && ms <= now.getTime() + MAX_CLOCK_SKEW_MS;
}

/** A quote kept in a price job's data, as `jobs/price-processor.ts` writes it: `{ ticker, price, time }`. */
const keptQuote = z.object(
  {
    ticker: z.string({ error: 'a ticker' }).regex(TICKER_PATTERN, 'a ticker such as AAPL'),
    price,
    time: z.iso.datetime({ offset: true, error: 'an ISO-8601 time with a zone' }),
  },
  { error: 'an object { ticker, price, time }' },
);

/**
 * Checks quotes that come from somewhere other than a provider's answer (a price job's data, which Bull
 * Board's "add job" or anyone with access to Redis can write) by the rules a provider answer passes: a
 * ticker on the watchlist, a finite price above zero and up to MAX_PRICE, a trade time from 2000 to a day
 * ahead of `now`. Answers the ticks that pass and, for each one that does not, what was wrong.
 */
export function checkKeptQuotes(
  quotes: unknown,
  rules: { now: Date; watched: ReadonlySet<string> },
): { ticks: Tick[]; refused: { symbol: string; error: string }[] } {
  if (!Array.isArray(quotes)) {
    return {
      ticks: [],
      refused: [{ symbol: '(all)', error: 'quotes: wanted a list of { ticker, price, time }' }],
    };
  }
  const ticks: Tick[] = [];
  const refused: { symbol: string; error: string }[] = [];
  for (const quote of quotes) {
    const raw = (quote as { ticker?: unknown } | null)?.ticker;
    const symbol = typeof raw === 'string' ? raw.slice(0, 20) : '(no ticker)';
    const parsed = keptQuote.safeParse(quote);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? issue.path.join('.') : 'quote';
      const got = (quote as Record<string, unknown> | null)?.[String(issue.path[0])];
      const shown = JSON.stringify(issue.path.length > 0 ? got : quote)?.slice(0, 40) ?? 'nothing';
      refused.push({ symbol, error: `${field}: wanted ${issue.message}, got ${shown}` });
      continue;
    }
    const { ticker, time } = parsed.data;
    const at = new Date(time);
    if (!rules.watched.has(ticker)) {
      refused.push({ symbol, error: 'ticker: not on the watchlist (or not fetched from this provider)' });
    } else if (!isPlausibleTradeTime(at.getTime(), rules.now)) {
      refused.push({ symbol, error: `time: wanted a trade time from 2000 to a day from now, got ${time}` });
    } else {
      ticks.push({ ticker, price: parsed.data.price, time: at });
    }
  }
  return { ticks, refused };
}

/** A 52-week range, checked: both prices above zero and the high not below the low. */
export function checkedRange(
  http: ProviderHttp,
  endpoint: string,
  symbol: string,
  high: number,
  low: number,
  body: unknown,
): { symbol: string; high: number; low: number } {
  if (!(high > 0 && low > 0 && high >= low && Number.isFinite(high))) {
    throw new InvalidProviderResponseError(
      http.provider,
      `${endpoint} answered an impossible 52-week range for ${symbol} (high ${high}, low ${low}): ${http.excerpt(JSON.stringify(body) ?? '')}`,
    );
  }
  return { symbol, high, low };
}

/** Fetch time to the whole second, for providers whose quotes carry no trade time. */
export function wholeSecond(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000);
}
