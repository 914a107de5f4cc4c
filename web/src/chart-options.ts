/**
 * The line chart's ApexCharts options: the fixed ones it is created with (`baseOptions`), and the ones each
 * draw hands over in one `updateOptions` (`frameOptions`: the lines and provider bars on the chosen clock's
 * axis, with breaks, the y-range from the frame's extent, the 52-week bands and the "history starts" line,
 * and which renderer paints it all). Pure: the callbacks ApexCharts calls back into are passed in.
 */

import type ApexCharts from 'apexcharts/core';
import type { DrawnSeries, Frame } from './chart-frame.ts';
import { FONT_STACK, timeAxis } from './chart-style.ts';
import { niceScale } from './series-math.ts';

/** ApexCharts' reset icon, for the page's own reset button. */
const RESET_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 12a9 9 0 1 0 9-9 9.75 9.75 0 0 0-6.74 2.74L3 8"/><path d="M3 3v5h5"/></svg>';
/**
 * How opaque a 52-week band's fill is: six of them overlap, so each is faint, and its edges (solid, in the
 * line's colour) are what keep one band apart from another where the fills blend.
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
export const BAR_DASH = 5;
/**
 * From this many points handed to ApexCharts on, its lines are painted on a canvas
 * (`apexcharts/features/renderer-canvas`) instead of one SVG path each: a week of six tickers is ~14,000
 * points, whose SVG paths Chromium parses, lays out and rasterises on every draw. Axes, grid, bands,
 * tooltips and the change markers stay SVG either way. ApexCharts' own `'auto'` counts markers and labels,
 * not the points of a bare line, so it would not switch for this chart: the page picks.
 */
export const CANVAS_POINTS = 8000;

type YAxisAnnotations = NonNullable<NonNullable<ApexCharts.ApexOptions['annotations']>['yaxis']>[number];
type ChartEvents = NonNullable<NonNullable<ApexCharts.ApexOptions['chart']>['events']>;

/**
 * ApexCharts 7.9 draws a straight line in one tight loop only when it has no nulls and is as long as the
 * chart's longest series (`_fastStraightPath` in its Line.js); every shorter line goes through its
 * per-point loop, which cost ~300 ms of a week's first draw here. On canvas, so with many points, the
 * shorter lines are therefore padded to the longest with repeats of their last point: zero-length
 * segments, nothing drawn. Not while the chart has the keyboard's focus, where the arrow keys would step
 * onto the repeats; tooltips and the readout map a repeat to the point it repeats (`drawnIndex`).
 */
export function padToLongest(series: { data: [number, number | null][] }[]): void {
  const longest = Math.max(0, ...series.map((s) => s.data.length));
  for (const { data } of series) {
    const last = data[data.length - 1];
    if (!last || last[1] === null) continue;
    while (data.length < longest) data.push(last);
  }
}

/** The y-axis labels' settings: a fresh object each time, as ApexCharts may keep and change what it is given. */
function yAxisLabels(axisLabel: (value: number) => string) {
  return { formatter: (value: number) => axisLabel(value), minWidth: 52 };
}

/** What the fixed options call back into. */
export interface BaseOptionsHooks {
  /** A y-axis label for a drawn value (its unit follows the view at the time it is called). */
  axisLabel(value: number): string;
  /** The tooltip for ApexCharts' series and data point indexes. */
  tooltip(seriesIndex: number, dataPointIndex: number): string;
  /** The page's reset button: back to the live window. */
  reset(): void;
  events: Pick<ChartEvents, 'mounted' | 'updated' | 'zoomed' | 'scrolled'>;
  noDataText: string;
}

/** The options the chart keeps from one draw to the next. */
export function baseOptions(hooks: BaseOptionsHooks): ApexCharts.ApexOptions {
  return {
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
              click: () => hooks.reset(),
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
      events: { ...hooks.events },
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
      labels: yAxisLabels(hooks.axisLabel),
    },
    tooltip: {
      shared: false,
      intersect: false,
      custom: ({ seriesIndex, dataPointIndex }) => hooks.tooltip(seriesIndex, dataPointIndex),
    },
    noData: { text: hooks.noDataText },
  };
}

/** What a frame's options depend on besides the frame. */
export interface FrameOptionsContext {
  /** An instant as an x value on ApexCharts' axis (time-zone.ts). */
  toAxis(ms: number): number;
  axisLabel(value: number): string;
  /** Whether the chart has the keyboard's focus (no padding then: `padToLongest`). */
  focused: boolean;
  noDataText: string;
  /** SVG however many points: a picture drawn once, by the server (first-frame.ts), not a live chart. */
  svgOnly?: boolean;
}

/** The options one draw hands to `updateOptions`. */
export function frameOptions(frame: Frame, context: FrameOptionsContext): ApexCharts.ApexOptions {
  const { toAxis } = context;
  const onAxis = (values: readonly (readonly [number, number | null])[]): [number, number | null][] =>
    values.map(([time, value]) => [toAxis(time), value]);
  const scale = frame.extent ? niceScale(frame.extent.min, frame.extent.max, 6) : undefined;
  const series = [
    ...frame.series.map((s) => ({ name: s.ticker, data: onAxis(withBreaks(s)) })),
    ...frame.bars.map((b) => ({ name: `${b.ticker} provider bars`, data: onAxis(b.values) })),
  ];
  const canvas = !context.svgOnly && series.reduce((n, s) => n + s.data.length, 0) >= CANVAS_POINTS;
  if (canvas && !context.focused) padToLongest(series);
  return {
    chart: { renderer: canvas ? 'canvas' : 'svg' },
    series,
    colors: [...frame.series.map((s) => s.color), ...frame.bars.map((b) => b.color)],
    stroke: { dashArray: [...frame.series.map(() => 0), ...frame.bars.map(() => BAR_DASH)] },
    xaxis: { min: toAxis(frame.window.min), max: toAxis(frame.window.max) },
    yaxis: {
      min: scale?.min,
      max: scale?.max,
      ...(scale ? { tickAmount: scale.ticks } : {}),
      forceNiceScale: false,
      labels: yAxisLabels(context.axisLabel),
    },
    annotations: {
      yaxis: frame.series.flatMap(bandAnnotations),
      xaxis:
        frame.historyStart === null
          ? []
          : [
              {
                id: 'history-starts',
                x: toAxis(frame.historyStart),
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
    noData: { text: context.noDataText },
  };
}

/** The options the chart is created with: the fixed ones and the first frame's. */
export function initialOptions(
  base: ApexCharts.ApexOptions,
  first: ApexCharts.ApexOptions,
): ApexCharts.ApexOptions {
  return {
    ...base,
    ...first,
    chart: { ...base.chart, ...first.chart },
    stroke: { ...base.stroke, ...first.stroke },
    xaxis: { ...base.xaxis, ...first.xaxis },
  };
}

/** A line's values with a null at each break, halfway between its neighbours. */
export function withBreaks(series: Pick<DrawnSeries, 'drawn' | 'values'>): [number, number | null][] {
  return series.drawn.map((i, at) => {
    if (i >= 0) return series.values[i] as [number, number];
    const before = series.values[series.drawn[at - 1]!]![0];
    const after = series.values[series.drawn[at + 1]!]![0];
    return [(before + after) / 2, null];
  });
}

/** A 52-week band: a faint fill in the line's colour, edged top and bottom with a fainter line. */
export function bandAnnotations(series: Pick<DrawnSeries, 'ticker' | 'color' | 'band'>): YAxisAnnotations[] {
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
