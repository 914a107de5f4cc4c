/**
 * What one draw of the line chart shows, worked out without ApexCharts or the DOM: the time window, each
 * visible ticker's line reduced to the plot's width (M4, as the server does), in the drawn unit ($ or %
 * change, linear or log: value-scale.ts), broken where the data has an outage, with its change markers,
 * alert firings and 52-week band, the provider bars drawn where no tick was observed, the y extent all of
 * it needs, and where "history starts" is marked. chart-options.ts turns a Frame into ApexCharts options.
 */

import { COLUMN_PX as M4_COLUMN_PX } from './first-load.ts';
import { assignSeriesColors } from './palette.ts';
import { type BarRun, closeAt, unobservedBarLine } from './provider-bars.ts';
import { liveWindow, type RangeKey, type TimeWindow } from './ranges.ts';
import {
  breakAtGaps,
  changeMarkers,
  gapThreshold,
  lowerBound,
  priceAt,
  reduceM4,
  upperBound,
  valueExtent,
} from './series-math.ts';
import type { Point, SeriesStore } from './series-store.ts';
import type { TimeZoneChoice } from './time-zone.ts';
import { type ChartMode, valueScale } from './value-scale.ts';

/** Changes are marked once the points in view are at least this far apart on average (`changeMarkers`). */
const MARKER_GAP_PX = 6;
/** A line breaks where neighbours lie more than this many times the usual spacing apart (`gapThreshold`). */
const GAP_FACTOR = 4;
/** ... and more than this many drawn columns apart: M4 neighbours can sit about two columns apart. */
const GAP_COLUMNS = 3;

/** What the chart needs to know about a ticker besides its prices. */
export interface ChartStock {
  ticker: string;
  companyName: string;
  color: string;
  low52Week: number | null;
  high52Week: number | null;
}

/** A watchlist entry as `Query.watchlist` answers it, as far as the chart and the cards need it. */
export interface WatchlistStock {
  ticker: string;
  companyName: string | null;
  enabled: boolean;
  low52Week: number | null;
  high52Week: number | null;
}

/**
 * The watched (enabled) stocks of `watchlist`, in its order, as the chart draws them: each in the colour
 * palette.ts keeps for it, named by its ticker where it has no company name.
 */
export function watchedStocks(watchlist: readonly WatchlistStock[]): ChartStock[] {
  const enabled = watchlist.filter((stock) => stock.enabled);
  const colors = assignSeriesColors(
    watchlist.map((stock) => stock.ticker),
    enabled.map((stock) => stock.ticker),
  );
  return enabled.map((stock) => ({
    ticker: stock.ticker,
    companyName: stock.companyName ?? stock.ticker,
    color: colors.get(stock.ticker)!,
    low52Week: stock.low52Week,
    high52Week: stock.high52Week,
  }));
}

/** Room the chart keeps beside the plot for the y-axis before it has measured its grid. */
export const AXIS_ROOM_PX = 70;

/** The view: which range, whether it follows live, and the window when it does not. */
export interface ChartView {
  range: RangeKey;
  mode: ChartMode;
  /** Whether the y-axis is logarithmic: equal distances are equal ratios (value-scale.ts). */
  logScale: boolean;
  /** Whose clock the time axis and tooltips read: the viewer's or the exchanges' (time-zone.ts). */
  timeZone: TimeZoneChoice;
  /** True while the window ends at the newest tick and slides along with it. */
  following: boolean;
  /** The window drawn last. */
  window: TimeWindow | null;
}

/** One drawn line, as the test hook and the tooltip read it. */
export interface DrawnSeries {
  ticker: string;
  color: string;
  /** The points handed to ApexCharts, in dollars. */
  points: Point[];
  /** The same in the drawn unit (dollars, or % in compare mode; their log10 on a log axis). */
  values: Point[];
  /** The price at the window's start, which compare mode rebases to. */
  base: number | undefined;
  /** Where change markers are drawn, `[ms, dollars]`. */
  markers: Point[];
  /** Where price alerts fired inside the window, `[ms, dollars]` (drawn as triangles). */
  alerts: Point[];
  /**
   * The line as handed to ApexCharts, as indexes into `points`: -1 is a break (null), where the points
   * lie further apart than the data's usual spacing (an outage), so no straight line is drawn across it.
   */
  drawn: number[];
  band: { low: number; high: number } | null;
}

/**
 * One ticker's provider bars as drawn: their closes where no tick was observed, as a dashed line in the
 * ticker's colour (`provider-bars.ts`).
 */
export interface DrawnBars {
  ticker: string;
  color: string;
  /** `[ms, close in dollars]`, null at a break where observed ticks take over. */
  points: [number, number | null][];
  /** The same in the drawn unit. */
  values: [number, number | null][];
  /** The bar of `run` behind each point, -1 at a break. */
  index: number[];
  run: BarRun;
}

export interface Frame {
  window: TimeWindow;
  series: DrawnSeries[];
  /** Drawn after every observed line, so ApexCharts' series index `series.length + i` is `bars[i]`. */
  bars: DrawnBars[];
  extent: { min: number; max: number } | null;
  /** Marker points per drawn series, in the drawn unit. */
  markerPoints: Point[][];
  /** Alert firings per drawn series, in the drawn unit. */
  alertPoints: Point[][];
  /** The first point of any drawn series, when it falls inside the window: where "history starts" is marked. */
  historyStart: number | null;
}

/** The part of the series store a frame reads. */
type FrameStore = Pick<SeriesStore, 'has' | 'points' | 'first' | 'latest'>;

/** Everything a frame is built from: the data, what the viewer picked, the plot's width and the time. */
export interface FrameInput {
  store: FrameStore;
  /** The watched tickers, in drawing order. */
  stocks: readonly ChartStock[];
  hidden: ReadonlySet<string>;
  view: Readonly<ChartView>;
  /** Whether the viewer switched 52-week bands on (drawn in price mode only: `bandsShown`). */
  bandsOn: boolean;
  bars: ReadonlyMap<string, BarRun>;
  alerts: ReadonlyMap<string, readonly Point[]>;
  /** The plot's width in px: the M4 column count and the marker spacing depend on it. */
  width: number;
  now: number;
}

/**
 * Whether 52-week bands are drawn: switched on, and in price mode. Compare mode draws none: a year's range
 * in % of the window's start spans far more than the window's moves, and an axis fitted to it would
 * flatten every line.
 */
export function bandsShown(bandsOn: boolean, mode: ChartMode): boolean {
  return bandsOn && mode === 'price';
}

/** The live window for the picked range, from the data there is (and the provider bars before it). */
export function liveWindowOf(
  input: Pick<FrameInput, 'store' | 'stocks' | 'bars' | 'view' | 'now'>,
): TimeWindow {
  const { store, bars } = input;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const stock of input.stocks) {
    const f = store.first(stock.ticker);
    const l = store.latest(stock.ticker);
    if (f && f[0] < first) first = f[0];
    if (l && l[0] > last) last = l[0];
    // A live provider's week before the install is bars only: the window reaches back over them too.
    const barStart = bars.get(stock.ticker)?.times[0];
    if (barStart !== undefined && barStart < first) first = barStart;
  }
  return liveWindow(
    input.view.range,
    input.now,
    Number.isFinite(first) ? first : undefined,
    Number.isFinite(last) ? last : undefined,
  );
}

/** The window to draw: the one zoomed or panned to, or else the live one. */
function frameWindow(input: Pick<FrameInput, 'store' | 'stocks' | 'bars' | 'view' | 'now'>): TimeWindow {
  return !input.view.following && input.view.window ? input.view.window : liveWindowOf(input);
}

/**
 * The window's points at full detail, and the rest of the series as a coarse overview around them.
 * ApexCharts lets a pan or a zoom-out reach only as far as the data it was given, so a zoomed chart needs
 * the whole series; the overview keeps that to about twice the points, and the draw after the gesture
 * puts full detail where it ended.
 */
function withOverview(all: readonly Point[], window: TimeWindow, columns: number): Point[] {
  const first = all[0];
  const last = all[all.length - 1];
  if (!first || !last) return [];
  const overview = reduceM4(all, first[0], last[0], columns);
  const detail = reduceM4(all, window.min, window.max, columns);
  const before = overview.filter(([time]) => time < (detail[0]?.[0] ?? window.min));
  const after = overview.filter(([time]) => time > (detail[detail.length - 1]?.[0] ?? window.max));
  return [...before, ...detail, ...after];
}

/** The index into a line's own points behind ApexCharts' data point `i` (a padded repeat is its last). */
export function drawnIndex(indexes: readonly number[], i: number): number {
  return indexes[Math.min(i, indexes.length - 1)] ?? -1;
}

export function buildFrame(input: FrameInput): Frame {
  const { store, view, width } = input;
  const window = frameWindow(input);
  const showBands = bandsShown(input.bandsOn, view.mode);
  const columns = width / M4_COLUMN_PX;
  const columnMs = (window.max - window.min) / columns;
  const series: DrawnSeries[] = [];
  const markerPoints: Point[][] = [];
  const alertPoints: Point[][] = [];
  const bars: DrawnBars[] = [];
  const inView: number[] = [];
  for (const stock of input.stocks) {
    if (input.hidden.has(stock.ticker) || !store.has(stock.ticker)) continue;
    const all = store.points(stock.ticker);
    const points = view.following
      ? reduceM4(all, window.min, window.max, columns)
      : withOverview(all, window, columns);
    const run = input.bars.get(stock.ticker);
    const barLine = run ? unobservedBarLine(run, all) : undefined;
    const drawsBars = barLine?.index.some((i) => i >= 0) === true;
    if (points.length === 0 && !drawsBars) continue;
    // Compare mode rebases to the price at the window's start: a bar's close where no tick was seen yet.
    const ticksFrom = all[0]?.[0];
    const barBase =
      run && (ticksFrom === undefined || ticksFrom > window.min) ? closeAt(run, window.min) : undefined;
    const base = barBase ?? priceAt(all, window.min) ?? run?.close[0];
    const scale = valueScale(view.mode, view.logScale, base);
    if (!scale) continue;
    const { toValue } = scale;
    const inUnit = (ps: readonly Point[]): Point[] =>
      ps.map(([time, price]) => [time, toValue(price)] as const);
    if (run && barLine && drawsBars) {
      const values = barLine.points.map(
        ([time, close]) => [time, close === null ? null : toValue(close)] as [number, number | null],
      );
      for (const [time, value] of values) {
        if (value !== null && time >= window.min && time <= window.max) inView.push(value);
      }
      bars.push({
        ticker: stock.ticker,
        color: stock.color,
        points: barLine.points,
        values,
        index: barLine.index,
        run,
      });
    }
    if (points.length === 0) continue;
    const values = inUnit(points);
    for (const [time, value] of values) if (time >= window.min && time <= window.max) inView.push(value);
    const inWindow = points.slice(lowerBound(points, window.min), upperBound(points, window.max));
    const maxGap = gapThreshold(inWindow, GAP_FACTOR, GAP_COLUMNS * columnMs);
    const drawn = breakAtGaps(points, maxGap, window.min, window.max);
    const markers = changeMarkers(all, window.min, window.max, width, MARKER_GAP_PX);
    markerPoints.push(inUnit(markers));
    const alerts = (input.alerts.get(stock.ticker) ?? []).filter(
      ([time]) => time >= window.min && time <= window.max,
    );
    alertPoints.push(inUnit(alerts));
    const { low52Week: low, high52Week: high } = stock;
    const band =
      showBands && typeof low === 'number' && typeof high === 'number' && high >= low
        ? { low: toValue(low), high: toValue(high) }
        : null;
    // The axis fits the bands drawn as well as the lines: a band must not run off the plot.
    if (band) inView.push(band.low, band.high);
    series.push({
      ticker: stock.ticker,
      color: stock.color,
      points,
      values,
      base,
      markers,
      alerts,
      band,
      drawn,
    });
  }
  const firsts = [
    ...series.map((s) => store.first(s.ticker)?.[0] ?? Number.POSITIVE_INFINITY),
    ...bars.map((b) => b.run.times[0] ?? Number.POSITIVE_INFINITY),
  ];
  const first = Math.min(...firsts);
  // Marked only where it leaves a visible blank: more than 1 % of the window before it.
  const historyStart =
    first > window.min + (window.max - window.min) * 0.01 && first < window.max ? first : null;
  return {
    window,
    series,
    bars,
    extent: valueExtent(inView) ?? null,
    markerPoints,
    alertPoints,
    historyStart,
  };
}
