/**
 * What the first draw needs from the server — the watchlist and the picked range's history at the chart's
 * width — asked for by the page's entry (boot.ts) before the rest of the page's code is fetched or compiled.
 * The page (main.ts) takes these answers for its first load instead of asking again.
 */
import type { GraphqlApi } from './graphql-api.ts';
import { DEFAULT_RANGE, historyFrom, isRangeKey, type RangeKey } from './ranges.ts';
import type { BarSeries, PriceSeries, Stock } from './types.ts';

export interface FirstLoad {
  /** The range the history was asked for: the page uses the answer only if it still shows that range. */
  range: RangeKey;
  from: Date;
  watchlist: Promise<Stock[]>;
  history: Promise<{ series: PriceSeries[]; bars: BarSeries[] }>;
}

/**
 * One M4 column of the drawn line per this many CSS px (chart-frame.ts). Every ApexCharts render walks
 * every point several times over; at two px a column the line looks the same (no vertex is more than a
 * pixel off) for half the points.
 */
export const COLUMN_PX = 2;

/** `px` as a `width` argument: whole, within what the server accepts (10 to 5000). */
function serverWidth(px: number): number | undefined {
  const width = Math.round(px);
  return width > 0 ? Math.min(5000, Math.max(10, width)) : undefined;
}

/** The chart's width in CSS px, as a `width` argument (candles: at most one a pixel). */
export function chartWidth(el: HTMLElement): number | undefined {
  return serverWidth(el.clientWidth);
}

/**
 * The `width` to ask history for over `px` of chart: one server column (up to four points) per drawn
 * column, so the page holds what it draws and no more. Asking at one column a pixel sent twice the points,
 * each parsed, merged and reduced again on the way to the chart; a zoom fetches its window's detail anyway.
 */
export function historyWidth(px: number): number | undefined {
  return serverWidth(px / COLUMN_PX);
}

/** The range the radios show: a reload may restore the previous choice. */
export function pickedRange(picker: ParentNode | null): RangeKey {
  const checked = picker?.querySelector<HTMLInputElement>('input:checked')?.value;
  return isRangeKey(checked) ? checked : DEFAULT_RANGE;
}

/**
 * Sends the first load's two requests now; `now` is the clock the window ends at. The history is asked
 * for at the viewport's width, which the chart's never exceeds: reading the chart's own would lay the
 * page out first (measured: ~190 ms before the request could leave, on a loaded 2-core machine).
 */
export function startFirstLoad(api: GraphqlApi, view: Window, now: number): FirstLoad {
  const range = pickedRange(view.document.querySelector('[data-testid="range-picker"]'));
  const from = new Date(historyFrom(range, now));
  const history = api.priceHistory({ from, width: historyWidth(view.innerWidth) });
  const load: FirstLoad = { range, from, watchlist: api.watchlist(), history };
  // Handled where the page awaits them (its first load retries); until it does, a failure is not "unhandled".
  load.watchlist.catch(() => undefined);
  load.history.catch(() => undefined);
  return load;
}
