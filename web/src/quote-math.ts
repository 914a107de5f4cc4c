/**
 * What the latest-price cards say about a ticker, as pure functions: the change over the chart's window,
 * where the price sits in its 52-week range, and which logo address the page may load.
 */
import { formatExchangeDay, formatPercent, formatSignedDollars } from './format.ts';
import type { PreviousClose } from './types.ts';

export interface WindowChange {
  /** Dollars gained (negative: lost) since the window's start. */
  absolute: number;
  /** The same as a percentage of the start price. */
  percent: number;
}

/** The change from `start` to `last`; undefined when either is missing or `start` is zero. */
export function windowChange(
  start: number | null | undefined,
  last: number | null | undefined,
): WindowChange | undefined {
  if (typeof start !== 'number' || typeof last !== 'number') return undefined;
  if (!Number.isFinite(start) || !Number.isFinite(last) || start === 0) return undefined;
  return { absolute: last - start, percent: ((last - start) / Math.abs(start)) * 100 };
}

/**
 * The card's line about the previous close, e.g. "▲ +$1.29 (+0.42%) since Fri close", or, while the
 * exchanges are closed after a session, that session's move: "▼ −$0.50 (−0.20%) Fri, vs Thu close".
 * Undefined without a close or a price.
 */
export function describeCloseChange(
  latest: number | null | undefined,
  close: PreviousClose | null | undefined,
): { text: string; direction: 'up' | 'down' | 'flat' } | undefined {
  const change = windowChange(close?.price, latest);
  if (!close || !change) return undefined;
  const cents = Math.round(change.absolute * 100);
  const direction = cents === 0 ? 'flat' : cents > 0 ? 'up' : 'down';
  const arrow = { up: '▲ ', down: '▼ ', flat: '' }[direction];
  const since =
    close.basis === 'SESSION' && close.changeOfSessionClose
      ? `${formatExchangeDay(close.changeOfSessionClose)}, vs ${formatExchangeDay(close.sessionClose)} close`
      : `since ${formatExchangeDay(close.sessionClose)} close`;
  return {
    text: `${arrow}${formatSignedDollars(change.absolute)} (${formatPercent(change.percent)}) ${since}`,
    direction,
  };
}

/**
 * Where `price` lies between the 52-week `low` (0) and `high` (1), clamped to that span: a live price can
 * step outside a range fetched hours ago, and the marker should then sit at the edge, not off the bar.
 * Undefined when any value is missing or the range is empty or inverted.
 */
export function rangePosition(
  price: number | null | undefined,
  low: number | null | undefined,
  high: number | null | undefined,
): number | undefined {
  if (typeof price !== 'number' || typeof low !== 'number' || typeof high !== 'number') return undefined;
  if (![price, low, high].every(Number.isFinite) || !(high > low)) return undefined;
  return Math.min(1, Math.max(0, (price - low) / (high - low)));
}

/** The app's own monogram for a ticker (what providers without logos report; see src/domain/monogram.ts). */
export function monogramUrl(ticker: string): string {
  return `/logos/${encodeURIComponent(ticker)}.svg`;
}

/**
 * The logo address the page may load: a same-origin path as is; anything else (a provider's CDN URL, a
 * protocol-relative `//host/…`, `javascript:`) is replaced by the app's monogram, because the page makes no
 * request to another host (and its Content-Security-Policy would block one anyway).
 */
export function safeLogoUrl(logoUrl: string | null | undefined, ticker: string): string {
  if (typeof logoUrl === 'string' && /^\/(?![/\\])[^\s]*$/.test(logoUrl)) return logoUrl;
  return monogramUrl(ticker);
}
