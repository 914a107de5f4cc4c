/**
 * The ApexCharts line chart: one series per watched ticker, drawn from the series store.
 *
 * Store changes are queued and drawn at most once per animation frame, one ApexCharts call at a time. A
 * change that only adds points after each series' end (every live tick, and the backfill after a reconnect)
 * goes through `appendData`, which keeps the viewer's zoom; anything else (first load, a rewritten or added
 * series) replaces the series with `updateSeries` and then puts the zoom and the hidden series back.
 */
import ApexCharts from 'apexcharts/core';
import 'apexcharts/line';
import 'apexcharts/features/legend';
import 'apexcharts/features/toolbar';
import 'apexcharts/features/facet';
import { formatAxisDollars, formatDollars } from './format.ts';
import { SERIES_PALETTE } from './palette.ts';
import {
  combineChanges,
  emptyChange,
  isEmptyChange,
  type Point,
  type SeriesChange,
  type SeriesStore,
} from './series-store.ts';

/**
 * ApexCharts' data reducer measures the data's x-range on a full draw only, not on `appendData`, and pans are
 * clamped to that range: redraw in full now and then so the viewer can always pan to the newest points.
 */
const FULL_REDRAW_EVERY_MS = 5 * 60 * 1000;

/** The page's font stack (no web fonts: the build must not fetch anything from elsewhere). */
const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export interface PriceChartOptions {
  /** The tooltip title for a ticker, e.g. "AAPL · Apple Inc.". */
  describe(ticker: string): string;
  /** A series was shown or hidden (from the chart's own legend or through `toggle`). */
  onVisibilityChange?(ticker: string, hidden: boolean): void;
}

export interface PriceChart {
  /** Queues the store change for drawing. Cheap: call it for every write. */
  update(change: SeriesChange): void;
  /** Shows `text` over an empty chart (loading, errors). */
  setMessage(text: string): void;
  /** Shows or hides a ticker's line. */
  toggle(ticker: string): void;
  isHidden(ticker: string): boolean;
  /** How many series the chart holds. */
  seriesCount(): number;
  /** How many points the chart holds for `ticker` (0 when it has no such series). */
  pointCount(ticker: string): number;
  destroy(): void;
}

/**
 * Whether ApexCharts currently hides `ticker`'s series. Its typings promise a boolean, but 7.9.1 returns
 * `{ isHidden, realIndex }` (an object, so always truthy), and throws for a name it has not drawn: read both.
 */
function seriesHidden(chart: ApexCharts, ticker: string): boolean {
  try {
    const answer: unknown = chart.isSeriesHidden(ticker);
    if (typeof answer === 'object' && answer !== null)
      return (answer as { isHidden?: unknown }).isHidden === true;
    return answer === true;
  } catch {
    return false;
  }
}

type DrawPlan =
  | { kind: 'full'; tickers: string[]; series: { name: string; data: Point[] }[] }
  | { kind: 'append'; tickers: string[]; appended: Map<string, Point[]> };

interface XWindow {
  min: number;
  max: number;
}

export function createPriceChart(
  el: HTMLElement,
  store: SeriesStore,
  options: PriceChartOptions,
): PriceChart {
  /** The series order of the last planned draw (it may still be waiting for an earlier one to finish). */
  let planned: string[] = [];
  let lastFullPlan = 0;
  /** The tickers the chart holds, in series order, and how many points each has: the test hook reads this. */
  let drawn: string[] = [];
  const drawnCounts = new Map<string, number>();
  /** The viewer's zoom/pan window, to restore after an `updateSeries` (which resets it). */
  let zoom: XWindow | null = null;

  let pending = emptyChange();
  let scheduled = false;
  let queue: Promise<void> = Promise.resolve();

  const chart = new ApexCharts(el, {
    chart: {
      type: 'line',
      height: '100%',
      fontFamily: FONT_STACK,
      background: 'transparent',
      parentHeightOffset: 0,
      // Off: ApexCharts animates every appendData (a "streaming scroll") even with dynamicAnimation off, which
      // tripled the cost of a tick in Chromium; a live chart that moves every few seconds needs no tweening.
      animations: { enabled: false },
      zoom: { enabled: true, type: 'x', autoScaleYaxis: true },
      // Draw at most 2000 points per line, about two per pixel (LTTB, re-reduced for the zoom window): a day of
      // 5-second ticks is 17k points a ticker; drawing them all made each tick's redraw ~4x slower in Chromium,
      // and 4000 (all of a 1000-px M4 answer) ~3x slower than 2000.
      dataReducer: { enabled: true, algorithm: 'lttb', targetPoints: 2000, threshold: 3000 },
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
          reset: true,
        },
      },
      events: {
        zoomed: (_chart, range) => {
          zoom = range?.xaxis && Number.isFinite(range.xaxis.min) ? { ...range.xaxis } : null;
        },
        scrolled: (_chart, range) => {
          if (range?.xaxis) zoom = { ...range.xaxis };
        },
        beforeResetZoom: () => {
          zoom = null;
        },
        legendClick: (_chart, seriesIndex) => {
          const ticker = seriesIndex === undefined ? undefined : drawn[seriesIndex];
          // the legend toggles after this handler returns
          if (ticker) queueMicrotask(() => options.onVisibilityChange?.(ticker, seriesHidden(chart, ticker)));
        },
      },
    },
    // OS light/dark is followed by the facet feature; --apx-fore / --apx-grid in styles.css set the chrome.
    theme: { follow: 'os' },
    colors: [...SERIES_PALETTE],
    series: [],
    stroke: { width: 2, curve: 'straight', lineCap: 'round' },
    // no stroke: ApexCharts parks zero-size hover markers at the plot's corner, and a stroke shows them there
    markers: { size: 0, strokeWidth: 0, hover: { size: 5 } },
    dataLabels: { enabled: false },
    grid: { strokeDashArray: 3, padding: { left: 8, right: 8 } },
    xaxis: {
      type: 'datetime',
      labels: { datetimeUTC: false },
      tooltip: { enabled: false },
    },
    yaxis: {
      labels: { formatter: (value: number) => formatAxisDollars(value), minWidth: 48 },
    },
    legend: {
      show: true,
      position: 'bottom',
      horizontalAlign: 'center',
      itemMargin: { horizontal: 10 },
      markers: { strokeWidth: 0 },
    },
    tooltip: {
      shared: false,
      intersect: false,
      x: { format: 'ddd d MMM, HH:mm:ss' },
      y: {
        formatter: (value: number | null) => formatDollars(value),
        title: { formatter: (seriesName: string) => options.describe(seriesName) },
      },
    },
    noData: { text: 'Loading prices…' },
  });
  const rendered = chart.render();

  // Every ApexCharts update re-renders the plot and drops the hover tooltip; with a tick every few seconds,
  // a reader holding the pointer still would see it vanish. Remember where the pointer is and replay it.
  let pointer: { x: number; y: number } | null = null;
  el.addEventListener('mousemove', (e) => {
    pointer = { x: e.clientX, y: e.clientY };
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

  /**
   * Decides, synchronously, what to hand ApexCharts for `change`. Synchronously matters: a full redraw copies
   * the store as it is now, and every later write lands in a fresh `pending`, so no point is drawn twice
   * even when a slow draw is still running as the next tick comes in.
   */
  function plan(change: SeriesChange): DrawPlan | null {
    const tickers = store.tickers();
    const sameSeries =
      tickers.length === planned.length && tickers.every((ticker, i) => ticker === planned[i]);
    const stale = Date.now() - lastFullPlan > FULL_REDRAW_EVERY_MS;
    if (!sameSeries || change.structural || change.rewritten.size > 0 || stale) {
      planned = [...tickers];
      lastFullPlan = Date.now();
      // copies: ApexCharts keeps the arrays it is given, the store keeps growing its own
      const series = tickers.map((ticker) => ({ name: ticker, data: store.points(ticker).slice() }));
      return { kind: 'full', tickers: planned, series };
    }
    if (change.appended.size === 0) return null;
    return { kind: 'append', tickers: planned, appended: change.appended };
  }

  async function draw(next: DrawPlan): Promise<void> {
    await rendered;
    if (next.kind === 'full') {
      const hidden = drawn.filter((ticker) => seriesHidden(chart, ticker));
      await chart.updateSeries(next.series, false);
      drawn = next.tickers;
      drawnCounts.clear();
      for (const s of next.series) drawnCounts.set(s.name, s.data.length);
      for (const ticker of hidden) if (drawn.includes(ticker)) chart.hideSeries(ticker);
      if (zoom) chart.zoomX(zoom.min, zoom.max);
    } else {
      await chart.appendData(next.tickers.map((ticker) => ({ data: next.appended.get(ticker) ?? [] })));
      for (const [ticker, points] of next.appended) {
        drawnCounts.set(ticker, (drawnCounts.get(ticker) ?? 0) + points.length);
      }
    }
    restoreHover();
  }

  // A re-render under a drag (zoom selection, pan) would cut the gesture short: hold drawing until it ends.
  // (The timer is a backstop for a pointerup the page never hears, e.g. released outside the window.)
  let holding = false;
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
    if (!isEmptyChange(pending)) schedule();
  };
  window.addEventListener('pointerup', release);
  window.addEventListener('pointercancel', release);

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // one draw per frame at most; a hidden tab draws when it comes back
    requestAnimationFrame(flush);
  }

  function flush(): void {
    scheduled = false;
    if (holding) return; // release() schedules again
    const next = plan(pending);
    pending = emptyChange();
    if (!next) return;
    queue = queue.then(() => draw(next)).catch((error) => console.error('stockstreamer: chart:', error));
  }

  return {
    update(change) {
      if (isEmptyChange(change)) return;
      combineChanges(pending, change);
      schedule();
    },
    setMessage(text) {
      void rendered.then(() => chart.updateOptions({ noData: { text } }, false, false));
    },
    toggle(ticker) {
      if (!drawn.includes(ticker)) return;
      chart.toggleSeries(ticker);
      options.onVisibilityChange?.(ticker, seriesHidden(chart, ticker));
    },
    isHidden: (ticker) => drawn.includes(ticker) && seriesHidden(chart, ticker),
    seriesCount: () => drawn.length,
    pointCount: (ticker) => drawnCounts.get(ticker) ?? 0,
    destroy() {
      chart.destroy();
    },
  };
}
