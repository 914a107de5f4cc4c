/**
 * `window.__stockstreamer`: a read-only window onto what the page holds and drew, for the browser tests.
 *
 * Why it exists: the e2e tests (test/e2e, real Chromium) must check that history loaded, that live ticks
 * arrive, which window and unit the chart shows, and where its bands are, without scraping ApexCharts'
 * SVG for numbers — path data is an implementation detail that changes with zoom, width, theme and library
 * version, while these are what the page promised to draw. It only reads: every answer is a fresh copy,
 * nothing here can change the page, and it costs nothing when no one calls it.
 */
import type { DrawnCandles } from './candle-chart.ts';
import type { DrawnLines } from './price-chart.ts';
import type { RangeKey } from './ranges.ts';
import type { TimeZoneChoice } from './time-zone.ts';
import type { ChartMode } from './value-scale.ts';

export interface HookView {
  range: RangeKey;
  mode: ChartMode;
  logScale: boolean;
  timeZone: TimeZoneChoice;
  following: boolean;
  window: { min: number; max: number } | null;
}

export interface StockstreamerTestHook {
  /** How many lines the chart draws (hidden ones do not count). */
  seriesCount(): number;
  /** How many points the page holds for `ticker` (history plus live ticks); 0 when it has no such series. */
  pointCount(ticker: string): number;
  /** The times of the points the page holds for `ticker` between `from` and `to` (inclusive). */
  pointTimes(ticker: string, from: number, to: number): number[];
  /** The tickers whose lines are drawn, in order. */
  drawnTickers(): string[];
  /**
   * The lines as ApexCharts parsed them for its last render (not as the page handed them over), and whether
   * it painted them as SVG paths or on a canvas; null before the first draw with data. With the canvas
   * renderer there is no path to read, so this is how a test sees a line's points and breaks.
   */
  lines(): DrawnLines | null;
  /** The newest point drawn for `ticker`, `[ms, dollars]`, or null. */
  lastDrawnPoint(ticker: string): [number, number] | null;
  /** Where change markers are drawn on `ticker`'s line, `[ms, dollars]` each. */
  markers(ticker: string): [number, number][];
  /** The provider bars drawn for `ticker` (dashed, where no tick was observed), `[bar start ms, close]`. */
  barPoints(ticker: string): [number, number][];
  /** Where price-alert markers are drawn on `ticker`'s line, `[ms, dollars]` each. */
  alertMarkers(ticker: string): [number, number][];
  /** The 52-week bands drawn, in the chart's unit (dollars, or % in compare mode; log10 of it on a log axis). */
  bands(): { ticker: string; low: number; high: number }[];
  isHidden(ticker: string): boolean;
  view(): HookView;
  /** Where the plot area is on screen (client px), to point at a time and value. */
  plotArea(): { left: number; top: number; width: number; height: number } | null;
  /** The y-axis range ApexCharts drew. */
  yRange(): { min: number; max: number } | null;
  /** Lines (the default) or one ticker's candles. */
  chartStyle(): 'line' | 'candles';
  /** The candles drawn last (ticker, interval, OHLC and volume per candle, the window), or null. */
  candles(): DrawnCandles | null;
  /** When the first draw with data finished (ms since navigation start), and the last draw's cost. */
  timings(): { firstDataDrawMs: number | null; lastDrawMs: number; draws: number };
}

declare global {
  interface Window {
    readonly __stockstreamer?: StockstreamerTestHook;
  }
}

export function installTestHook(target: Window, source: StockstreamerTestHook): void {
  const hook: StockstreamerTestHook = Object.freeze({
    seriesCount: () => source.seriesCount(),
    pointCount: (ticker: string) => source.pointCount(String(ticker)),
    pointTimes: (ticker: string, from: number, to: number) => [
      ...source.pointTimes(String(ticker), Number(from), Number(to)),
    ],
    drawnTickers: () => [...source.drawnTickers()],
    lines: () => {
      const drawn = source.lines();
      return drawn ? structuredClone(drawn) : null;
    },
    lastDrawnPoint: (ticker: string) => {
      const point = source.lastDrawnPoint(String(ticker));
      return point ? ([point[0], point[1]] as [number, number]) : null;
    },
    markers: (ticker: string) => source.markers(String(ticker)).map(([t, p]) => [t, p] as [number, number]),
    barPoints: (ticker: string) =>
      source.barPoints(String(ticker)).map(([t, p]) => [t, p] as [number, number]),
    alertMarkers: (ticker: string) =>
      source.alertMarkers(String(ticker)).map(([t, p]) => [t, p] as [number, number]),
    bands: () => source.bands().map((band) => ({ ...band })),
    isHidden: (ticker: string) => source.isHidden(String(ticker)),
    view: () => structuredClone(source.view()),
    plotArea: () => {
      const area = source.plotArea();
      return area ? { ...area } : null;
    },
    yRange: () => {
      const range = source.yRange();
      return range ? { ...range } : null;
    },
    chartStyle: () => source.chartStyle(),
    candles: () => {
      const drawn = source.candles();
      return drawn ? structuredClone(drawn) : null;
    },
    timings: () => ({ ...source.timings() }),
  });
  Object.defineProperty(target, '__stockstreamer', {
    value: hook,
    writable: false,
    configurable: false,
    enumerable: false,
  });
}
