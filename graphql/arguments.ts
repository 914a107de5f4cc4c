import { GraphQLError } from 'graphql';
import { normalizeTicker } from '../src/domain/symbols.ts';

/** A user mistake, reported to the client as is (Yoga masks every other error). */
export function badInput(field: string, message: string): GraphQLError {
  return new GraphQLError(`${field}: ${message}`, { extensions: { code: 'BAD_USER_INPUT', field } });
}

/** Tickers per request; a watchlist page never needs more, and it bounds the work one query can ask for. */
export const MAX_TICKERS_PER_REQUEST = 100;
/** The longest history window one query may ask for. */
export const MAX_HISTORY_DAYS = 366;
const DAY_MS = 86_400_000;

export function parseTickers(field: string, raw: readonly string[]): string[] {
  if (raw.length > MAX_TICKERS_PER_REQUEST) {
    throw badInput(field, `at most ${MAX_TICKERS_PER_REQUEST} tickers per request, got ${raw.length}`);
  }
  const tickers: string[] = [];
  for (const item of raw) {
    const result = normalizeTicker(item);
    if (!result.ok) throw badInput(field, result.error);
    if (!tickers.includes(result.ticker)) tickers.push(result.ticker);
  }
  return tickers;
}

/** Resolves the history window: `to` defaults to now, `from` to 7 days before `to`; ordered and bounded. */
export function parseWindow(from: Date | null | undefined, to: Date | null | undefined, now: Date) {
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - 7 * DAY_MS);
  if (start.getTime() > end.getTime()) {
    throw badInput('from', `must not be after to (${start.toISOString()} > ${end.toISOString()})`);
  }
  if (end.getTime() - start.getTime() > MAX_HISTORY_DAYS * DAY_MS) {
    throw badInput('from', `the window from..to may span at most ${MAX_HISTORY_DAYS} days`);
  }
  return { from: start, to: end };
}

export const MIN_CHART_WIDTH = 10;
export const MAX_CHART_WIDTH = 5000;

/** The chart's width in pixels, which bounds the answer to 4 × width points per series. */
export function parseWidth(width: number | null | undefined): number {
  const value = width ?? 1200;
  if (!Number.isInteger(value) || value < MIN_CHART_WIDTH || value > MAX_CHART_WIDTH) {
    throw badInput(
      'width',
      `wanted a whole number of pixels from ${MIN_CHART_WIDTH} to ${MAX_CHART_WIDTH}, got ${value}`,
    );
  }
  return value;
}
