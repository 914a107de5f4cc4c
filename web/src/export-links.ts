/**
 * The page's export menu: what "CSV of this view" downloads. Pure, so the spec tables it; the server's
 * `/export/prices.csv` does the rest (README "Export as CSV").
 */
import type { TimeWindow } from './ranges.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The bar width for a window of `spanMs`: every tick up to six hours (≈ 4,300 rows a ticker at 5 s), then
 * minute bars up to a week (≈ 10,000), 5-minute bars up to 31 days, hourly bars beyond — a file a
 * spreadsheet opens, at about the detail the chart shows.
 */
export function exportInterval(spanMs: number): 'tick' | '1m' | '5m' | '1h' {
  if (spanMs <= 6 * HOUR_MS) return 'tick';
  if (spanMs <= 7 * DAY_MS) return '1m';
  if (spanMs <= 31 * DAY_MS) return '5m';
  return '1h';
}

/** The export URL for the lines shown over the window shown. */
export function csvExportHref(tickers: readonly string[], window: TimeWindow): string {
  const from = new Date(Math.floor(window.min));
  const to = new Date(Math.ceil(window.max) + 1);
  const query = new URLSearchParams({
    tickers: tickers.join(','),
    interval: exportInterval(window.max - window.min),
    from: from.toISOString(),
    to: to.toISOString(),
  });
  return `/export/prices.csv?${query}`;
}
