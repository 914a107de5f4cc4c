/**
 * What the server's first frame draws (first-frame.ts says what it is for): ApexCharts options for the
 * default view, built from the same pure parts as the chart's own draws (chart-frame.ts,
 * chart-options.ts), so lines, y-axis and bands land where the chart then draws them. Used by the server
 * (src/server/first-frame-draw.ts), never by the page.
 */

import type ApexCharts from 'apexcharts/core';
import { AXIS_ROOM_PX, buildFrame, type WatchlistStock, watchedStocks } from './chart-frame.ts';
import { baseOptions, frameOptions, initialOptions } from './chart-options.ts';
import { FONT_STACK } from './chart-style.ts';
import { DEFAULT_VIEW } from './chart-view-state.ts';
import type { FrameRequest } from './first-frame.ts';
import { historyWidth } from './first-load.ts';
import { formatAxisDollars } from './format.ts';
import { type BarRun, mergeBarWindow } from './provider-bars.ts';
import { historyFrom } from './ranges.ts';
import { createSeriesStore } from './series-store.ts';
import { zoneOffsetMs } from './time-zone.ts';
import type { BarSeries } from './types.ts';

/** The chart's size in a 1280 × 800 window (the page's layout caps its width at 1206 px). */
export const GUESSED_SIZE = Object.freeze({ width: 1206, height: 380 });

/** What the server read to draw a frame; the same shapes as the page's own queries answer. */
export interface FrameData {
  /** The watchlist in its order, as `Query.watchlist` answers it. */
  watchlist: readonly WatchlistStock[];
  /** The default range's history at the frame's width (`Query.priceHistory`). */
  series: readonly { ticker: string; times: number[]; prices: number[] }[];
  /** Provider bars over the same window (`Query.barHistory`), where the server has them. */
  bars: readonly BarSeries[];
  now: number;
}

/** Where the default range starts at `now`: the window the server reads for a frame. */
export function frameWindowStart(now: number): number {
  return historyFrom(DEFAULT_VIEW.range, now);
}

/** The history `width` a frame of `width` px reads: one server column per drawn column, as the page asks. */
export function frameHistoryWidth(width: number): number {
  return historyWidth(width - AXIS_ROOM_PX) ?? 10;
}

/**
 * ApexCharts options for the frame, or null when there is nothing to draw (no enabled ticker with data).
 * `localZone` is the zone of the clock the renderer formats times on (the server's): the axis is shifted
 * from it to the asked zone, as the page does for the exchanges' clock (time-zone.ts).
 */
export function firstFrameOptions(
  data: FrameData,
  request: FrameRequest,
  localZone: string,
): ApexCharts.ApexOptions | null {
  const stocks = watchedStocks(data.watchlist);
  const store = createSeriesStore();
  store.setTickers(stocks.map((stock) => stock.ticker));
  store.mergeHistory(data.series);
  const from = frameWindowStart(data.now);
  const bars = new Map<string, BarRun>();
  for (const stock of stocks) {
    const run = mergeBarWindow(
      undefined,
      data.bars.find((b) => b.ticker === stock.ticker),
      from,
      Number.POSITIVE_INFINITY,
    );
    if (run.times.length > 0) bars.set(stock.ticker, run);
  }
  const frame = buildFrame({
    store,
    stocks,
    hidden: new Set(),
    view: DEFAULT_VIEW,
    bandsOn: true,
    bars,
    alerts: new Map(),
    width: Math.max(10, request.width - AXIS_ROOM_PX),
    now: data.now,
  });
  if (frame.series.length === 0 && frame.bars.length === 0) return null;
  const zone = request.timeZone;
  const toAxis = (ms: number) =>
    zone === null || zone === localZone ? ms : ms + zoneOffsetMs(zone, ms) - zoneOffsetMs(localZone, ms);
  const base = baseOptions({
    axisLabel: formatAxisDollars,
    tooltip: () => '',
    reset: () => {},
    events: {},
    noDataText: '',
  });
  const drawn = frameOptions(frame, {
    toAxis,
    axisLabel: formatAxisDollars,
    focused: false,
    noDataText: '',
    svgOnly: true,
  });
  const options = initialOptions(base, drawn);
  // A picture, not a chart: nothing for a keyboard or a screen reader to reach. Its font stack goes into an
  // attribute unescaped (ApexCharts 7.9's SSR), so the names in it are quoted the other way.
  options.chart = {
    ...options.chart,
    accessibility: { enabled: false },
    fontFamily: FONT_STACK.replaceAll('"', "'"),
  };
  return options;
}
