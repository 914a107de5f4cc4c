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

/** The width to ask history for: the chart's own, in CSS pixels, within what the server accepts. */
export function chartWidth(el: HTMLElement): number | undefined {
  const width = Math.round(el.clientWidth);
  return width > 0 ? Math.min(5000, Math.max(10, width)) : undefined;
}

/** The range the radios show: a reload may restore the previous choice. */
export function pickedRange(picker: ParentNode | null): RangeKey {
  const checked = picker?.querySelector<HTMLInputElement>('input:checked')?.value;
  return isRangeKey(checked) ? checked : DEFAULT_RANGE;
}

/** Sends the first load's two requests now; `now` is the clock the window ends at. */
export function startFirstLoad(api: GraphqlApi, doc: Document, now: number): FirstLoad {
  const range = pickedRange(doc.querySelector('[data-testid="range-picker"]'));
  const chart = doc.querySelector<HTMLElement>('[data-testid="price-chart"]');
  const from = new Date(historyFrom(range, now));
  const load: FirstLoad = {
    range,
    from,
    watchlist: api.watchlist(),
    history: api.priceHistory({ from, width: chart ? chartWidth(chart) : undefined }),
  };
  // Handled where the page awaits them (its first load retries); until it does, a failure is not "unhandled".
  load.watchlist.catch(() => undefined);
  load.history.catch(() => undefined);
  return load;
}
