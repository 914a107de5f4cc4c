/**
 * The ApexCharts line chart: one line per watched ticker, its 52-week range as a shaded band in its colour,
 * markers where the price changed, and a view that follows live prices until the viewer zooms or pans away.
 *
 * The page owns the view, not ApexCharts: every draw works out the time window (the picked range ending
 * now while following live, else the viewer's zoom), reduces each series to the first, last, lowest and
 * highest point of each column of that window (M4, as the server does), puts it in the drawn unit ($ or
 * % change, linear or log: value-scale.ts), moves it to the chosen clock (time-zone.ts), picks
 * the y-range from what is visible, and hands ApexCharts one `updateOptions` with all of it. Draws are coalesced to one per
 * animation frame and run one at a time, so a burst of ticks costs one render. ApexCharts' own zoom, pan,
 * wheel zoom and reset still drive it: their events feed the view, and the next draw redraws it properly.
 */

import type ApexCharts from 'apexcharts/core';
import { FONT_STACK, timeAxis } from './chart-style.ts';
import { COLUMN_PX as M4_COLUMN_PX } from './first-load.ts';
import {
  escapeHtml,
  formatAxisDollars,
  formatAxisPercent,
  formatDollars,
  formatLogAxisDollars,
  formatPercent,
  formatTooltipTime,
} from './format.ts';
import { type BarRun, barAt, closeAt, unobservedBarLine } from './provider-bars.ts';
import { DEFAULT_RANGE, liveWindow, type RangeKey, type TimeWindow } from './ranges.ts';
import {
  breakAtGaps,
  changeMarkers,
  gapThreshold,
  niceScale,
  percentChange,
  priceAt,
  reduceM4,
  valueExtent,
} from './series-math.ts';
import type { Point, SeriesChange, SeriesStore } from './series-store.ts';
import { fromAxisTime, type TimeZoneChoice, timeZoneOf, toAxisTime } from './time-zone.ts';
import { axisValue, type ChartMode, valueScale } from './value-scale.ts';

/** Changes are marked once the points in view are at least this far apart on average (`changeMarkers`). */
const MARKER_GAP_PX = 6;
/** Marker radius in px. */
const MARKER_RADIUS = 2.6;
/** Half the width of an alert marker (a triangle over the tick that fired it), in px. */
const ALERT_MARKER_PX = 5;
/** ApexCharts' reset icon, for the page's own reset button. */
const RESET_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 12a9 9 0 1 0 9-9 9.75 9.75 0 0 0-6.74 2.74L3 8"/><path d="M3 3v5h5"/></svg>';
/**
 * How opaque a 52-week band's fill is: six of them overlap, so each is faint, and its edges (solid, in the
 * line's colour) are what keep one band apart from another where the fills blend. Compare mode draws no
 * bands: a year's range in % of the window's start spans far more than the window's moves, and an axis
 * fitted to it would flatten every line.
 */
const BAND_OPACITY = 0.07;
/** The "history starts" line and label: a grey that reads on both themes (SVG attributes take no var()). */
const HISTORY_START_GREY = '#8b949e';
/** The edges' opacity, as a hex alpha suffix: readable on white and on the dark theme's surface. */
const BAND_EDGE_ALPHA = 'b3';
/**
 * A provider bar's close line is dashed, so it never reads as observed. (Same width as the observed lines:
 * a per-series width array made ApexCharts 7.9 set hover rects at Infinity on one-point series.)
 */
const BAR_DASH = 5;
/**
 * From this many points handed to ApexCharts on, its lines are painted on a canvas
 * (`apexcharts/features/renderer-canvas`) instead of one SVG path each: a week of six tickers is ~14,000
 * points, whose SVG paths Chromium parses, lays out and rasterises on every draw. Axes, grid, bands,
 * tooltips and the change markers stay SVG either way. ApexCharts' own `'auto'` counts markers and labels,
 * not the points of a bare line, so it would not switch for this chart: the page picks.
 */
const CANVAS_POINTS = 8000;
/**
 * ApexCharts 7.9 draws a straight line in one tight loop only when it has no nulls and is as long as the
 * chart's longest series (`_fastStraightPath` in its Line.js); every shorter line goes through its
 * per-point loop, which cost ~300 ms of a week's first draw here. On canvas, so with many points, the
 * shorter lines are therefore padded to the longest with repeats of their last point: zero-length
 * segments, nothing drawn. Not while the chart has the keyboard's focus, where the arrow keys would step
 * onto the repeats; tooltips and the readout map a repeat to the point it repeats (`drawnIndex`).
 */
function padToLongest(series: { data: [number, number | null][] }[]): void {
  const longest = Math.max(0, ...series.map((s) => s.data.length));
  for (const { data } of series) {
    const last = data[data.length - 1];
    if (!last || last[1] === null) continue;
    while (data.length < longest) data.push(last);
  }
}

/** The index into a line's own points behind ApexCharts' data point `i` (a padded repeat is its last). */
function drawnIndex(indexes: readonly number[], i: number): number {
  return indexes[Math.min(i, indexes.length - 1)] ?? -1;
}

/** A line breaks where neighbours lie more than this many times the usual spacing apart (`gapThreshold`). */
const GAP_FACTOR = 4;
/** ... and more than this many drawn columns apart: M4 neighbours can sit about two columns apart. */
const GAP_COLUMNS = 3;

export type { ChartMode } from './value-scale.ts';

/** What the chart needs to know about a ticker besides its prices. */
export interface ChartStock {
  ticker: string;
  companyName: string;
  color: string;
  low52Week: number | null;
  high52Week: number | null;
}

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

export interface PriceChartOptions {
  /** The viewer zoomed, panned, reset or went back to live; `detailWanted` asks for finer history there. */
  onViewChange?(view: ChartView, detailWanted: boolean): void;
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

/** Where the plot area is on screen, in CSS px (client coordinates). */
export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The lines as ApexCharts holds them after its last render, read back from it for the browser tests. */
export interface DrawnLines {
  /** How the series were painted: one SVG path each, or on one canvas. */
  renderer: 'svg' | 'canvas' | 'gpu';
  lines: {
    name: string;
    color: string;
    /** The stroke's dash length, 0 for a solid line. */
    dash: number;
    /** `[ms, value]` in the drawn unit; null where the line breaks. */
    points: [number, number | null][];
  }[];
}

export interface ChartSnapshot {
  view: ChartView;
  plot: PlotArea | null;
  series: readonly DrawnSeries[];
  bars: readonly DrawnBars[];
  yRange: { min: number; max: number } | null;
  draws: number;
  lastDrawMs: number;
  /** `performance.now()` when the first draw with data finished. */
  firstDataDrawAt: number | null;
}

export interface PriceChart {
  /** Queues a store change for drawing. Cheap: call it for every write. */
  update(change: SeriesChange): void;
  /** The tickers to draw, in order, with colours and 52-week ranges. */
  setStocks(stocks: readonly ChartStock[]): void;
  setHidden(ticker: string, hidden: boolean): void;
  isHidden(ticker: string): boolean;
  /** Picks a range and follows live in it. */
  setRange(range: RangeKey): void;
  setMode(mode: ChartMode): void;
  /** A logarithmic y-axis (either mode), or a linear one. */
  setLogScale(on: boolean): void;
  /** Whose clock the time axis and tooltips read. */
  setTimeZone(choice: TimeZoneChoice): void;
  /** Back to the picked range, ending now, following new ticks. */
  backToLive(): void;
  view(): ChartView;
  /** The window the picked range spans now, from the data there is (what following live would draw). */
  liveWindow(): TimeWindow;
  /** Shows `text` over an empty chart (loading, errors). */
  setMessage(text: string): void;
  /** Shows or hides every 52-week band (price mode only; compare mode never draws them). */
  setBands(on: boolean): void;
  /** Whether bands are drawn now: switched on and in price mode. */
  bandsShown(): boolean;
  /** Each ticker's provider bars: drawn dashed where no tick was observed. */
  setBars(bars: ReadonlyMap<string, BarRun>): void;
  /** The price alerts that fired, per ticker, `[ms, dollars]`: marked on the line where they fired. */
  setAlerts(alerts: ReadonlyMap<string, readonly Point[]>): void;
  snapshot(): ChartSnapshot;
  /** What ApexCharts drew last, read from the library itself; null before the first draw with data. */
  lines(): DrawnLines | null;
  /** The chart as drawn now, as a PNG (ApexCharts' own export): a `data:` or `blob:` URL. */
  pngUrl(): Promise<string>;
  destroy(): void;
}

/**
 * The few ApexCharts internals read here (not in its public typings): the drawn scale and the plot's size,
 * and, for `lines()`, the series as it parsed them.
 */
interface ApexInternals {
  w?: {
    globals: { minX: number; maxX: number; minY: number; maxY: number; colors?: string[] };
    layout: { gridWidth: number; gridHeight: number };
    seriesData?: { series: (number | null)[][]; seriesX: number[][]; seriesNames: string[] };
    config?: { stroke?: { dashArray?: number | number[] } };
  };
}

function internals(chart: ApexCharts | undefined): ApexInternals['w'] {
  return (chart as unknown as ApexInternals | undefined)?.w;
}

/** The part of ApexCharts' keyboard navigation (apexcharts/features/keyboard) a redraw must carry over. */
interface KeyboardCursor {
  active: boolean;
  seriesIndex: number;
  dataPointIndex: number;
  _tooltipDismissed: boolean;
  notePointerFocus(): void;
  _showCurrentPoint(): void;
}

function keyboardCursor(chart: ApexCharts): KeyboardCursor | null {
  return (chart as unknown as { keyboardNavigation?: KeyboardCursor | null }).keyboardNavigation ?? null;
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

/**
 * The time window of an ApexCharts zoom or pan event (its axis values taken back to instants by
 * `fromAxis`), or null when it is not a usable window.
 */
function xRange(
  range: { xaxis?: { min?: unknown; max?: unknown } } | undefined,
  fromAxis: (x: number) => number,
): TimeWindow | null {
  const min = range?.xaxis?.min;
  const max = range?.xaxis?.max;
  if (typeof min !== 'number' || typeof max !== 'number' || !(max > min)) return null;
  return { min: fromAxis(min), max: fromAxis(max) };
}

type YAxisAnnotations = NonNullable<NonNullable<ApexCharts.ApexOptions['annotations']>['yaxis']>[number];

interface Frame {
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

export function createPriceChart(
  el: HTMLElement,
  store: SeriesStore,
  options: PriceChartOptions = {},
): PriceChart {
  let stocks: ChartStock[] = [];
  let alertsByTicker: ReadonlyMap<string, readonly Point[]> = new Map();
  let barsByTicker: ReadonlyMap<string, BarRun> = new Map();
  const hidden = new Set<string>();
  const view: ChartView = {
    range: DEFAULT_RANGE,
    mode: 'price',
    logScale: false,
    timeZone: 'viewer',
    following: true,
    window: null,
  };
  let bandsOn = true;
  const bandsShown = () => bandsOn && view.mode === 'price';
  /** The frame being drawn (ApexCharts' render events and the tooltip read it)… */
  let frame: Frame | null = null;
  /** …and the last one whose render finished: what the snapshot reports as drawn. */
  let drawnFrame: Frame | null = null;
  let message = 'Loading prices…';

  let draws = 0;
  let lastDrawMs = 0;
  let firstDataDrawAt: number | null = null;

  let dirty = false;
  let scheduled = false;
  let drawing: Promise<void> = Promise.resolve();
  /** Set while our own `updateOptions` runs, so its events are not mistaken for the viewer's. */
  let ownUpdate = false;

  const stockOf = (ticker: string) => stocks.find((s) => s.ticker === ticker);
  /** An instant as an x value on ApexCharts' axis, whose local labels then read the chosen clock… */
  const toAxis = (ms: number) => toAxisTime(view.timeZone, ms);
  /** …and back. */
  const fromAxis = (x: number) => fromAxisTime(view.timeZone, x);
  const tooltipTime = (ms: number) => formatTooltipTime(ms, timeZoneOf(view.timeZone));

  const config: ApexCharts.ApexOptions = {
    chart: {
      type: 'line',
      height: '100%',
      fontFamily: FONT_STACK,
      background: 'transparent',
      parentHeightOffset: 0,
      // A live chart redraws every few seconds; tweening each redraw costs CPU and reads as jitter.
      animations: { enabled: false },
      zoom: {
        enabled: true,
        type: 'x',
        autoScaleYaxis: false, // the next draw picks the y-range from what is visible
        allowMouseWheelZoom: true,
        resetControl: false,
      },
      toolbar: {
        show: true,
        autoSelected: 'zoom',
        tools: {
          download: false,
          selection: false,
          zoom: true,
          zoomin: true,
          zoomout: true,
          pan: true,
          // The page's own reset (back to the live window): ApexCharts' would first redraw the series it
          // was created with, then ours, a visible flash on every reset.
          reset: false,
          customIcons: [
            {
              icon: RESET_ICON,
              title: 'Reset zoom and follow live prices',
              class: 'apexcharts-reset-icon ss-reset-icon', // ApexCharts' own look for it
              click: () => backToLive(),
            },
          ],
        },
      },
      accessibility: {
        enabled: true,
        description: 'Stock prices over time, one line per ticker. Arrow keys move from point to point.',
        announcements: { enabled: true },
        keyboard: { enabled: true, navigation: { enabled: true, wrapAround: false } },
      },
      events: {
        mounted: () => drawOverlay(),
        updated: () => drawOverlay(),
        zoomed: (_chart, range) => {
          if (ownUpdate) return;
          const window = xRange(range, fromAxis);
          if (!window) return;
          leaveLive(window);
        },
        scrolled: (_chart, range) => {
          if (ownUpdate) return;
          const window = xRange(range, fromAxis);
          if (!window) return;
          // a pan drag: remember where it is; drawing waits for the pointer to come up
          view.following = false;
          view.window = window;
          panned = true;
        },
      },
    },
    // OS light/dark is followed by the facet feature; --apx-fore / --apx-grid in styles.css set the chrome.
    theme: { follow: 'os' },
    series: [],
    stroke: { width: 2, curve: 'straight', lineCap: 'round' },
    markers: { size: 0, strokeWidth: 0, hover: { size: 5 } },
    dataLabels: { enabled: false },
    legend: { show: false }, // the page draws its own, with logos (chart-legend.ts)
    grid: { strokeDashArray: 3, padding: { left: 8, right: 12 } },
    xaxis: timeAxis(),
    yaxis: {
      labels: yAxisLabels(),
    },
    tooltip: {
      shared: false,
      intersect: false,
      custom: ({ seriesIndex, dataPointIndex }) => tooltipHtml(seriesIndex, dataPointIndex),
    },
    noData: { text: message },
  };
  /**
   * The chart is created by the first draw with data, with that data: an empty chart rendered while the
   * history is on its way would be drawn twice (empty, then again with the lines), and on a slow machine
   * the empty render is still running when the history arrives. Until then a plain placeholder says what
   * is happening. The library starts loading now (index.html preloads it too).
   */
  let chart: ApexCharts | undefined;
  /** Set once the page has said which tickers to draw: from then on a draw without lines is a real one. */
  let stocksKnown = false;
  // Where a point reached with the arrow keys is read out (tooltipHtml); beside the chart, not in it, as
  // ApexCharts redraws its own element.
  const readout = document.createElement('p');
  readout.className = 'sr-only';
  readout.setAttribute('aria-live', 'polite');
  readout.dataset.testid = 'chart-readout';
  el.after(readout);
  const placeholder = document.createElement('p');
  placeholder.className = 'chart-placeholder';
  placeholder.setAttribute('role', 'status');
  placeholder.textContent = message;
  el.append(placeholder);
  const library = import('./apexcharts-bundle.ts').then((m) => m.ApexCharts);
  let resolveCreated: (chart: ApexCharts) => void = () => {};
  /** Resolves with the chart once the first draw has made it. */
  const created = new Promise<ApexCharts>((resolve) => {
    resolveCreated = resolve;
  });

  function axisLabel(value: number): string {
    const shown = axisValue(view.mode, view.logScale, value);
    if (view.mode === 'percent') return formatAxisPercent(shown);
    return view.logScale ? formatLogAxisDollars(shown) : formatAxisDollars(shown);
  }

  /** The y-axis labels' settings: a fresh object each time, as ApexCharts may keep and change what it is given. */
  function yAxisLabels() {
    return { formatter: (value: number) => axisLabel(value), minWidth: 52 };
  }

  function tooltipHtml(seriesIndex: number, dataPointIndex: number): string {
    const observed = frame?.series.length ?? 0;
    if (seriesIndex >= observed) return barTooltipHtml(seriesIndex - observed, dataPointIndex);
    const drawn = frame?.series[seriesIndex];
    const point = drawn?.points[drawnIndex(drawn.drawn, dataPointIndex)];
    if (!drawn || !point) return '';
    const stock = stockOf(drawn.ticker);
    const [time, price] = point;
    const change =
      drawn.base !== undefined && drawn.base !== 0 ? formatPercent(percentChange(price, drawn.base)) : '';
    // Reached from the keyboard (the chart has focus): read the point out, politely. A pointer's hover
    // is not announced, which would talk over everything else on the page.
    // The same text again (a redraw resuming the point) is not set again: it would be announced again.
    const said = `${drawn.ticker}, ${tooltipTime(time)}, ${formatDollars(price)}`;
    if (el.contains(document.activeElement) && readout.textContent !== said) readout.textContent = said;
    return [
      `<div class="tip" data-testid="chart-tooltip" style="--series:${escapeHtml(drawn.color)}">`,
      '<div class="tip-head">',
      `<strong class="tip-ticker">${escapeHtml(drawn.ticker)}</strong>`,
      `<span class="tip-name">${escapeHtml(stock?.companyName ?? drawn.ticker)}</span></div>`,
      `<div class="tip-time">${escapeHtml(tooltipTime(time))}</div>`,
      `<div class="tip-price"><span class="tip-dollars">${escapeHtml(formatDollars(price))}</span>`,
      change ? `<span class="tip-change">${escapeHtml(change)} since the window's start</span>` : '',
      '</div></div>',
    ].join('');
  }

  /** A provider bar says so, with its span, open, high, low, close and volume where the provider gave it. */
  function barTooltipHtml(barsIndex: number, dataPointIndex: number): string {
    const drawn = frame?.bars[barsIndex];
    const bar = drawn ? barAt(drawn.run, drawnIndex(drawn.index, dataPointIndex)) : undefined;
    if (!drawn || !bar) return '';
    const stock = stockOf(drawn.ticker);
    const minutes = Math.round((bar.end - bar.time) / 60_000);
    const span =
      minutes >= 1
        ? `${minutes.toLocaleString('en-US')} min`
        : `${Math.round((bar.end - bar.time) / 1000)} s`;
    const ohlc = [
      ['O', bar.open],
      ['H', bar.high],
      ['L', bar.low],
      ['C', bar.close],
    ]
      .map(([label, value]) => `${label} ${escapeHtml(formatDollars(value as number))}`)
      .join(' · ');
    const volume = bar.volume === null ? '' : ` · volume ${escapeHtml(bar.volume.toLocaleString('en-US'))}`;
    return [
      `<div class="tip" data-testid="chart-tooltip" data-kind="bar" style="--series:${escapeHtml(drawn.color)}">`,
      '<div class="tip-head">',
      `<strong class="tip-ticker">${escapeHtml(drawn.ticker)}</strong>`,
      `<span class="tip-name">${escapeHtml(stock?.companyName ?? drawn.ticker)}</span></div>`,
      `<div class="tip-time">${escapeHtml(tooltipTime(bar.time))}</div>`,
      `<div class="tip-price"><span class="tip-dollars">${escapeHtml(formatDollars(bar.close))}</span>`,
      `<span class="tip-change">provider bar, ${escapeHtml(span)}: not observed live</span></div>`,
      `<div class="tip-bar">${ohlc}${volume}</div>`,
      '</div>',
    ].join('');
  }

  function viewCopy(): ChartView {
    return { ...view, window: view.window ? { ...view.window } : null };
  }

  function visibleStocks(): ChartStock[] {
    return stocks.filter((stock) => !hidden.has(stock.ticker) && store.has(stock.ticker));
  }

  /** The window to draw: the one zoomed or panned to, or else the live one. */
  function currentWindow(): TimeWindow {
    return !view.following && view.window ? view.window : liveWindowNow();
  }

  /** The live window for the picked range, from the data there is. */
  function liveWindowNow(): TimeWindow {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const stock of stocks) {
      const f = store.first(stock.ticker);
      const l = store.latest(stock.ticker);
      if (f && f[0] < first) first = f[0];
      if (l && l[0] > last) last = l[0];
      // A live provider's week before the install is bars only: the window reaches back over them too.
      const barStart = barsByTicker.get(stock.ticker)?.times[0];
      if (barStart !== undefined && barStart < first) first = barStart;
    }
    return liveWindow(
      view.range,
      Date.now(),
      Number.isFinite(first) ? first : undefined,
      Number.isFinite(last) ? last : undefined,
    );
  }

  /** The plot's width in px: the M4 column count and the marker spacing depend on it. */
  function plotWidth(): number {
    const gridWidth = internals(chart)?.layout.gridWidth;
    return Math.max(10, Math.round(gridWidth && gridWidth > 0 ? gridWidth : el.clientWidth - 70));
  }

  function buildFrame(): Frame {
    const window = currentWindow();
    const width = plotWidth();
    const series: DrawnSeries[] = [];
    const markerPoints: Point[][] = [];
    const alertPoints: Point[][] = [];
    const bars: DrawnBars[] = [];
    const inView: number[] = [];
    for (const stock of visibleStocks()) {
      const all = store.points(stock.ticker);
      const points = view.following
        ? reduceM4(all, window.min, window.max, width / M4_COLUMN_PX)
        : withOverview(all, window, width / M4_COLUMN_PX);
      const run = barsByTicker.get(stock.ticker);
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
      const columnMs = (window.max - window.min) / (width / M4_COLUMN_PX);
      const inWindow = points.filter(([time]) => time >= window.min && time <= window.max);
      const maxGap = gapThreshold(inWindow, GAP_FACTOR, GAP_COLUMNS * columnMs);
      const drawn = breakAtGaps(points, maxGap, window.min, window.max);
      const markers = changeMarkers(all, window.min, window.max, width, MARKER_GAP_PX);
      markerPoints.push(inUnit(markers));
      const alerts = (alertsByTicker.get(stock.ticker) ?? []).filter(
        ([time]) => time >= window.min && time <= window.max,
      );
      alertPoints.push(inUnit(alerts));
      const { low52Week: low, high52Week: high } = stock;
      const band =
        bandsShown() && typeof low === 'number' && typeof high === 'number' && high >= low
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
        alerts: [...alerts],
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

  /** The options the chart is created with: the fixed ones and the first frame's. */
  function initialOptions(next: Frame): ApexCharts.ApexOptions {
    const frameOptions = apexOptions(next);
    return {
      ...config,
      ...frameOptions,
      chart: { ...config.chart, ...frameOptions.chart },
      stroke: { ...config.stroke, ...frameOptions.stroke },
      xaxis: { ...config.xaxis, ...frameOptions.xaxis },
    };
  }

  function apexOptions(next: Frame): ApexCharts.ApexOptions {
    const scale = next.extent ? niceScale(next.extent.min, next.extent.max, 6) : undefined;
    const series = [
      ...next.series.map((s) => ({ name: s.ticker, data: onAxis(withBreaks(s)) })),
      ...next.bars.map((b) => ({ name: `${b.ticker} provider bars`, data: onAxis(b.values) })),
    ];
    const canvas = series.reduce((n, s) => n + s.data.length, 0) >= CANVAS_POINTS;
    if (canvas && !el.contains(document.activeElement)) padToLongest(series);
    return {
      chart: { renderer: canvas ? 'canvas' : 'svg' },
      series,
      colors: [...next.series.map((s) => s.color), ...next.bars.map((b) => b.color)],
      stroke: { dashArray: [...next.series.map(() => 0), ...next.bars.map(() => BAR_DASH)] },
      xaxis: { min: toAxis(next.window.min), max: toAxis(next.window.max) },
      yaxis: {
        min: scale?.min,
        max: scale?.max,
        ...(scale ? { tickAmount: scale.ticks } : {}),
        forceNiceScale: false,
        labels: yAxisLabels(),
      },
      annotations: {
        yaxis: next.series.flatMap(bandAnnotations),
        xaxis:
          next.historyStart === null
            ? []
            : [
                {
                  id: 'history-starts',
                  x: toAxis(next.historyStart),
                  borderColor: HISTORY_START_GREY,
                  strokeDashArray: 4,
                  label: {
                    text: 'history starts',
                    orientation: 'horizontal',
                    borderWidth: 0,
                    style: { background: 'transparent', color: HISTORY_START_GREY },
                  },
                },
              ],
      },
      noData: { text: hiddenMessage() },
    };
  }

  /** Values with their instants moved onto ApexCharts' axis (`toAxis`). */
  function onAxis(values: readonly (readonly [number, number | null])[]): [number, number | null][] {
    return values.map(([time, value]) => [toAxis(time), value]);
  }

  /** A line's values with a null at each break, halfway between its neighbours. */
  function withBreaks(series: DrawnSeries): [number, number | null][] {
    return series.drawn.map((i, at) => {
      if (i >= 0) return series.values[i] as [number, number];
      const before = series.values[series.drawn[at - 1]!]![0];
      const after = series.values[series.drawn[at + 1]!]![0];
      return [(before + after) / 2, null];
    });
  }

  /** A 52-week band: a faint fill in the line's colour, edged top and bottom with a fainter line. */
  function bandAnnotations(series: DrawnSeries): YAxisAnnotations[] {
    if (!series.band) return [];
    const id = `band-${series.ticker.replace(/[^A-Za-z0-9-]/g, '_')}`;
    const edge = (y: number, which: string): YAxisAnnotations => ({
      id: `${id}-${which}`,
      y,
      borderColor: `${series.color}${BAND_EDGE_ALPHA}`,
      borderWidth: 1,
      strokeDashArray: 0,
      label: { text: '' },
    });
    return [
      {
        id,
        y: series.band.low,
        y2: series.band.high,
        fillColor: series.color,
        opacity: BAND_OPACITY,
        borderColor: 'transparent',
        borderWidth: 0,
        strokeDashArray: 0,
        label: { text: '' },
      },
      edge(series.band.low, 'low'),
      edge(series.band.high, 'high'),
    ];
  }

  function hiddenMessage(): string {
    if (stocks.length > 0 && stocks.every((s) => hidden.has(s.ticker))) {
      return 'Every line is hidden: pick a ticker below to show it';
    }
    return message;
  }

  /** Markers where the price changed, drawn into ApexCharts' plot group after each of its renders. */
  function drawOverlay(): void {
    const plot = el.querySelector('.apexcharts-graphical');
    if (!plot) return;
    plot.querySelector(':scope > .ss-markers')?.remove();
    if (!frame || frame.series.length === 0) return;
    const w = internals(chart);
    if (!w) return;
    const { minX, maxX, minY, maxY } = w.globals;
    const { gridWidth, gridHeight } = w.layout;
    if (!(maxX > minX) || !(maxY > minY) || !(gridWidth > 0) || !(gridHeight > 0)) return;
    const sx = gridWidth / (maxX - minX);
    const sy = gridHeight / (maxY - minY);
    const group = document.createElementNS('http://www.w3.org/2000/svg', 'g');
    group.setAttribute('class', 'ss-markers');
    group.setAttribute('aria-hidden', 'true');
    const r = MARKER_RADIUS;
    frame.series.forEach((series, i) => {
      const markers = frame?.markerPoints[i] ?? [];
      let d = '';
      for (const [time, value] of markers) {
        const x = (toAxis(time) - minX) * sx;
        const y = gridHeight - (value - minY) * sy;
        if (x < -r || x > gridWidth + r || y < -r || y > gridHeight + r) continue;
        d += `M${(x - r).toFixed(1)} ${y.toFixed(1)}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;
      }
      const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      path.setAttribute('class', 'ss-marker');
      path.setAttribute('data-ticker', series.ticker);
      path.setAttribute('d', d);
      path.style.setProperty('--series', series.color);
      if (d !== '') group.append(path);
      // Where an alert fired: a triangle above the line, pointing at the tick that fired it.
      let alerts = '';
      for (const [time, value] of frame?.alertPoints[i] ?? []) {
        const x = (toAxis(time) - minX) * sx;
        const y = gridHeight - (value - minY) * sy;
        if (x < 0 || x > gridWidth || y < 0 || y > gridHeight) continue;
        const a = ALERT_MARKER_PX;
        alerts += `M${x.toFixed(1)} ${(y - 2).toFixed(1)}l${-a} ${-2 * a}h${2 * a}z`;
      }
      if (alerts !== '') {
        const alertPath = document.createElementNS('http://www.w3.org/2000/svg', 'path');
        alertPath.setAttribute('class', 'ss-alert-marker');
        alertPath.setAttribute('data-ticker', series.ticker);
        alertPath.setAttribute('d', alerts);
        alertPath.style.setProperty('--series', series.color);
        group.append(alertPath);
      }
    });
    plot.append(group);
  }

  // Every ApexCharts update re-renders the plot and drops the hover tooltip; with a tick every few seconds,
  // a reader holding the pointer still would see it vanish. Remember where the pointer is and replay it.
  let pointer: { x: number; y: number } | null = null;
  el.addEventListener('mousemove', (e) => {
    if (e.isTrusted) pointer = { x: e.clientX, y: e.clientY };
  });
  el.addEventListener('mouseleave', () => {
    pointer = null;
  });
  function restoreHover(): void {
    if (!pointer) return;
    const target = document.elementFromPoint(pointer.x, pointer.y);
    if (!target || !el.contains(target)) return;
    target.dispatchEvent(
      new MouseEvent('mousemove', {
        clientX: pointer.x,
        clientY: pointer.y,
        bubbles: true,
        cancelable: true,
      }),
    );
  }

  /** The toolbar is rebuilt by every render: note which button had focus so keyboard users keep their place. */
  function focusedTool(): string | null {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || !el.contains(active)) return null;
    const cls = [...active.classList].find((c) => c.startsWith('apexcharts-') && c.endsWith('-icon'));
    return cls ?? null;
  }

  async function draw(): Promise<void> {
    // Before the page knows its tickers there is nothing to draw: the placeholder says it is loading.
    if (!chart && !stocksKnown) return;
    const Apex = chart ? undefined : await library;
    if (firstDataDrawAt === null) performance.mark('stockstreamer:first-draw-start');
    const next = buildFrame();
    const started = performance.now();
    frame = next;
    view.window = next.window;
    if (!chart && Apex) {
      const instance = new Apex(el, initialOptions(next));
      placeholder.remove();
      chart = instance;
      ownUpdate = true;
      try {
        await instance.render();
      } finally {
        ownUpdate = false;
      }
      resolveCreated(instance);
      finishDraw(instance, next, started, null, null);
      return;
    }
    const instance = chart!;
    const tool = focusedTool();
    const reading = keyboardPlace(instance);
    ownUpdate = true;
    try {
      // overwriteInitialConfig stays false: with it, ApexCharts deep-cloned every series as its "initial"
      // state on each update (a third of a draw's time), for a reset that this chart does itself
      await instance.updateOptions(apexOptions(next), false, false, false, false);
    } finally {
      ownUpdate = false;
    }
    finishDraw(instance, next, started, tool, reading);
  }

  function finishDraw(
    instance: ApexCharts,
    next: Frame,
    started: number,
    tool: string | null,
    reading: ReturnType<typeof keyboardPlace>,
  ): void {
    // ApexCharts remembers a zoom of its own after a box or wheel zoom, and its keyboard navigation then
    // keeps the arrow keys inside that old range. This chart sets the range itself on every draw: only
    // the viewer's own zoom counts as one.
    const interact = (instance as unknown as { w?: { interact?: { zoomed?: boolean } } }).w?.interact;
    if (interact) interact.zoomed = !view.following;
    drawnFrame = next;
    lastDrawMs = performance.now() - started;
    draws++;
    if (firstDataDrawAt === null && next.series.length > 0) {
      firstDataDrawAt = performance.now();
      performance.mark('stockstreamer:first-data-draw');
    }
    if (tool) el.querySelector<HTMLElement>(`.apexcharts-toolbar .${tool}`)?.focus({ preventScroll: true });
    if (reading) resumeKeyboard(instance, reading);
    restoreHover();
  }

  /**
   * Where a keyboard reader is (ticker and time of the point, not indexes, which a new frame shifts), or
   * null when the chart does not have the keyboard's focus. Every update rebuilds ApexCharts' SVG and its
   * keyboard navigation: without carrying this over, each live tick would drop the focus to the page and
   * the next arrow key would start again from the first point.
   */
  function keyboardPlace(instance: ApexCharts): { ticker: string; time: number; dismissed: boolean } | null {
    const nav = keyboardCursor(instance);
    if (!nav?.active || !el.contains(document.activeElement)) return null;
    const drawn = drawnFrame?.series[nav.seriesIndex];
    const point = drawn?.points[drawnIndex(drawn.drawn, nav.dataPointIndex)];
    return drawn && point ? { ticker: drawn.ticker, time: point[0], dismissed: nav._tooltipDismissed } : null;
  }

  function resumeKeyboard(instance: ApexCharts, place: { ticker: string; time: number; dismissed: boolean }) {
    const nav = keyboardCursor(instance);
    const svg = el.querySelector<SVGSVGElement>('svg.apexcharts-svg');
    const seriesIndex = frame?.series.findIndex((s) => s.ticker === place.ticker) ?? -1;
    const series = frame?.series[seriesIndex];
    const points = series?.points;
    if (!nav || !svg || !points || points.length === 0) return;
    // The last point at or before the one being read (a fold or a new window may have moved it)
    let index = 0;
    while (index + 1 < points.length && points[index + 1]![0] <= place.time) index++;
    // Focus as a pointer would, so ApexCharts does not jump to its first point on focus; then put the
    // cursor back and show it (unless Escape had dismissed it).
    nav.notePointerFocus();
    svg.focus({ preventScroll: true });
    nav.active = true;
    nav._tooltipDismissed = place.dismissed;
    nav.seriesIndex = seriesIndex;
    nav.dataPointIndex = Math.max(0, series!.drawn.indexOf(index));
    if (!place.dismissed) nav._showCurrentPoint();
  }

  // A re-render under a drag (zoom selection, pan) would cut the gesture short: hold drawing until it ends.
  // (The timer is a backstop for a pointerup the page never hears, e.g. released outside the window.)
  let holding = false;
  let panned = false;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  el.addEventListener('pointerdown', () => {
    holding = true;
    clearTimeout(holdTimer);
    holdTimer = setTimeout(release, 10_000);
  });
  const release = () => {
    clearTimeout(holdTimer);
    if (!holding) return;
    holding = false;
    if (panned) {
      panned = false;
      options.onViewChange?.(viewCopy(), true);
      dirty = true;
    }
    if (dirty) schedule();
  };
  window.addEventListener('pointerup', release);
  window.addEventListener('pointercancel', release);

  function plotArea(): PlotArea | null {
    const w = internals(chart);
    const svg = el.querySelector('svg.apexcharts-svg');
    const plot = el.querySelector('.apexcharts-graphical');
    const match = /translate\(\s*([-\d.]+)[ ,]+([-\d.]+)/.exec(plot?.getAttribute('transform') ?? '');
    if (!w || !svg || !match) return null;
    const box = svg.getBoundingClientRect();
    return {
      left: box.left + Number(match[1]),
      top: box.top + Number(match[2]),
      width: w.layout.gridWidth,
      height: w.layout.gridHeight,
    };
  }

  function backToLive(): void {
    if (view.following) return;
    view.following = true;
    // The window is the live one from now on, not the zoom's until the next frame draws: whoever reads
    // the view in between (the page's detail loader, the test hook) sees one consistent state.
    view.window = liveWindowNow();
    options.onViewChange?.(viewCopy(), false);
    schedule();
  }

  // Escape is the keyboard's way back to live (ApexCharts' own Escape-resets-zoom is off with its reset).
  el.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !view.following) backToLive();
  });

  function leaveLive(window: TimeWindow): void {
    view.following = false;
    view.window = window;
    options.onViewChange?.(viewCopy(), true);
    schedule();
  }

  function schedule(): void {
    dirty = true;
    if (scheduled) return;
    scheduled = true;
    // one draw per frame at most; a hidden tab draws when it comes back
    requestAnimationFrame(flush);
  }

  function flush(): void {
    scheduled = false;
    if (holding || !dirty) return; // release() schedules again
    dirty = false;
    drawing = drawing.then(draw).catch((error) => console.error('stockstreamer: chart:', error));
  }

  // The M4 column count follows the plot's width.
  let lastWidth = el.clientWidth;
  const resizeObserver = new ResizeObserver(() => {
    if (Math.abs(el.clientWidth - lastWidth) < 8) return;
    lastWidth = el.clientWidth;
    schedule();
  });
  resizeObserver.observe(el);

  return {
    update(change) {
      if (!change.structural && change.rewritten.size === 0 && change.appended.size === 0) return;
      schedule();
    },
    setStocks(next) {
      stocks = next.map((s) => ({ ...s }));
      stocksKnown = true;
      for (const ticker of hidden) if (!stocks.some((s) => s.ticker === ticker)) hidden.delete(ticker);
      schedule();
    },
    setBars(bars) {
      // No bars before and none now (the simulated market, most loads): nothing to redraw. A redraw is not
      // free: one landing while ApexCharts is still easing a wheel zoom resets the zoom to the window drawn.
      if (bars.size === 0 && barsByTicker.size === 0) return;
      barsByTicker = bars;
      schedule();
    },
    setAlerts(alerts) {
      alertsByTicker = alerts;
      schedule();
    },
    setHidden(ticker, isHidden) {
      if (isHidden === hidden.has(ticker)) return;
      if (isHidden) hidden.add(ticker);
      else hidden.delete(ticker);
      schedule();
    },
    isHidden: (ticker) => hidden.has(ticker),
    setRange(range) {
      view.range = range;
      view.following = true;
      schedule();
    },
    setMode(mode) {
      if (view.mode === mode) return;
      view.mode = mode;
      schedule();
    },
    setLogScale(on) {
      if (view.logScale === on) return;
      view.logScale = on;
      schedule();
    },
    setTimeZone(choice) {
      if (view.timeZone === choice) return;
      view.timeZone = choice;
      schedule();
    },
    backToLive,
    setBands(on) {
      if (bandsOn === on) return;
      bandsOn = on;
      schedule();
    },
    bandsShown,
    lines() {
      const w = internals(chart);
      const data = w?.seriesData;
      if (!chart || !w || !data || !drawnFrame) return null;
      const dashes = w.config?.stroke?.dashArray ?? 0;
      return {
        renderer: chart.getActiveRenderer(),
        lines: data.seriesNames.map((name, i) => ({
          name,
          color: w.globals.colors?.[i] ?? '',
          dash: Array.isArray(dashes) ? (dashes[i] ?? 0) : dashes,
          points: (data.series[i] ?? []).map(
            (value, j) => [data.seriesX[i]?.[j] ?? Number.NaN, value] as [number, number | null],
          ),
        })),
      };
    },
    async pngUrl() {
      const out = await (await created).dataURI({ scale: 2 });
      return 'imgURI' in out ? out.imgURI : URL.createObjectURL(out.blob);
    },
    view: viewCopy,
    liveWindow: liveWindowNow,
    setMessage(text) {
      message = text;
      placeholder.textContent = text;
      void chart?.updateOptions({ noData: { text: hiddenMessage() } }, false, false);
    },
    snapshot: () => ({
      view: viewCopy(),
      plot: plotArea(),
      series: drawnFrame?.series ?? [],
      bars: drawnFrame?.bars ?? [],
      yRange:
        drawnFrame && internals(chart)
          ? { min: internals(chart)!.globals.minY, max: internals(chart)!.globals.maxY }
          : null,
      draws,
      lastDrawMs,
      firstDataDrawAt,
    }),
    destroy() {
      resizeObserver.disconnect();
      readout.remove();
      void created.then((c) => c.destroy());
    },
  };
}
