/** The page's answers to the browser tests' hook (test-hook.ts), read off the chart, the store and candles. */
import type { CandleView } from './candle-view.ts';
import type { PriceChart } from './price-chart.ts';
import type { SeriesStore } from './series-store.ts';
import { installTestHook } from './test-hook.ts';

export function installPageTestHook(
  target: Window,
  chart: PriceChart,
  store: SeriesStore,
  /** Absent until built after the first draw (late-panels.ts): lines until then. */
  candles: () => CandleView | undefined,
): void {
  const series = (ticker: string) => chart.snapshot().series.find((s) => s.ticker === ticker);
  installTestHook(target, {
    seriesCount: () => chart.snapshot().series.length,
    pointCount: (ticker) => store.pointCount(ticker),
    pointTimes: (ticker, from, to) =>
      store
        .points(ticker)
        .filter(([time]) => time >= from && time <= to)
        .map(([time]) => time),
    drawnTickers: () => chart.snapshot().series.map((s) => s.ticker),
    lines: () => chart.lines(),
    lastDrawnPoint: (ticker) => {
      const drawn = series(ticker);
      const last = drawn?.points[drawn.points.length - 1];
      return last ? [last[0], last[1]] : null;
    },
    markers: (ticker) =>
      (series(ticker)?.markers ?? []).map(([time, price]) => [time, price] as [number, number]),
    barPoints: (ticker) =>
      (chart.snapshot().bars.find((b) => b.ticker === ticker)?.points ?? []).flatMap(([time, close]) =>
        close === null ? [] : [[time, close] as [number, number]],
      ),
    alertMarkers: (ticker) =>
      (series(ticker)?.alerts ?? []).map(([time, price]) => [time, price] as [number, number]),
    bands: () =>
      chart
        .snapshot()
        .series.flatMap((s) => (s.band ? [{ ticker: s.ticker, low: s.band.low, high: s.band.high }] : [])),
    isHidden: (ticker) => chart.isHidden(ticker),
    view: () => chart.view(),
    plotArea: () => chart.snapshot().plot,
    yRange: () => chart.snapshot().yRange,
    chartStyle: () => (candles()?.active() ? 'candles' : 'line'),
    candles: () => candles()?.snapshot() ?? null,
    timings: () => {
      const snapshot = chart.snapshot();
      return {
        firstDataDrawMs: snapshot.firstDataDrawAt,
        lastDrawMs: snapshot.lastDrawMs,
        draws: snapshot.draws,
      };
    },
  });
}
