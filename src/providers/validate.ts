import { z } from 'zod';
import { MAX_PRICE } from '../domain/tick.ts';
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
  if (!Number.isFinite(ms) || ms < EARLIEST_TRADE || ms > now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new InvalidProviderResponseError(
      http.provider,
      `${endpoint} answered an implausible trade time ${Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)}: ${http.excerpt(JSON.stringify(body) ?? '')}`,
    );
  }
  return new Date(ms);
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
