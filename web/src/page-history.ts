/**
 * Reading a window of history from the server into the page: the observed ticks into the store (drawn
 * through `apply`), the provider's bars beside them (provider-bars.ts), each window put in place of what
 * the page held there. The first load, a backfill, a new range, a zoom's detail and a ticker just added all
 * come through here.
 */
import type { GraphqlApi } from './graphql-api.ts';
import type { PriceChart } from './price-chart.ts';
import { type BarRun, mergeBarWindow, pruneBarsBefore } from './provider-bars.ts';
import type { SeriesChange, SeriesStore } from './series-store.ts';
import type { BarSeries } from './types.ts';

export interface PageHistoryOptions {
  api: Pick<GraphqlApi, 'priceHistory'>;
  store: SeriesStore;
  chart: Pick<PriceChart, 'setBars'>;
  /** Draws a store change (or holds it until the first load is done). */
  apply(change: SeriesChange): void;
  /** The `width` to ask history for (first-load.ts, historyWidth). */
  width(): number | undefined;
}

export interface PageHistory {
  /** Reads [from, to] (to: now) for `tickers` and merges it; nothing to do for no tickers. */
  load(tickers: readonly string[], from: number, to?: number, signal?: AbortSignal): Promise<void>;
  /** Puts a `barHistory` answer for `tickers` over [from, to] in place of what the page held there. */
  mergeBars(tickers: readonly string[], answer: readonly BarSeries[], from: number, to: number): void;
  /** Forgets the bars before `from` (a shorter range). */
  pruneBarsBefore(from: number): void;
}

export function createPageHistory(options: PageHistoryOptions): PageHistory {
  const { api, store, chart } = options;
  /** Provider bars per ticker, apart from the store's observed ticks. */
  let barRuns = new Map<string, BarRun>();

  function mergeBars(
    tickers: readonly string[],
    answer: readonly BarSeries[],
    from: number,
    to: number,
  ): void {
    const next = new Map(barRuns);
    for (const ticker of tickers) {
      const run = mergeBarWindow(
        next.get(ticker),
        answer.find((bars) => bars.ticker === ticker),
        from,
        to,
      );
      if (run.times.length > 0) next.set(ticker, run);
      else next.delete(ticker);
    }
    barRuns = next;
    chart.setBars(barRuns);
  }

  return {
    async load(tickers, from, to, signal) {
      if (tickers.length === 0) return;
      const history = await api.priceHistory(
        {
          tickers,
          from: new Date(from),
          ...(to !== undefined ? { to: new Date(to) } : {}),
          width: options.width(),
        },
        signal,
      );
      options.apply(store.mergeHistory(history.series));
      mergeBars(tickers, history.bars, from, to ?? Number.POSITIVE_INFINITY);
    },
    mergeBars,
    pruneBarsBefore(from) {
      barRuns = new Map([...barRuns].map(([ticker, run]) => [ticker, pruneBarsBefore(run, from)]));
      chart.setBars(barRuns);
    },
  };
}
