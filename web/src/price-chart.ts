/**
 * The ApexCharts line chart: one line per watched ticker, its 52-week range as a shaded band in its colour,
 * markers where the price changed, and a view that follows live prices until the viewer zooms or pans away.
 *
 * The page owns the view, not ApexCharts: every draw builds a frame (chart-frame.ts: the time window, each
 * series M4-reduced to the plot's width, in the drawn unit, with gaps, markers, alerts and bands), turns
 * it into options (chart-options.ts) on the chosen clock's axis, and hands ApexCharts one `updateOptions`
 * with all of it. Draws are coalesced to one per animation frame and run one at a time (draw-scheduler.ts),
 * so a burst of ticks costs one render. ApexCharts' own zoom, pan, wheel zoom and reset still drive it:
 * their events feed the view (chart-view-state.ts), and the next draw redraws it properly. After each
 * render the overlay (chart-overlay.ts), the keyboard reader's place (chart-keyboard.ts) and the hover
 * (chart-hover.ts) are put back. This file wires those together.
 */

import type ApexCharts from 'apexcharts/core';
import {
  AXIS_ROOM_PX,
  bandsShown,
  buildFrame,
  type ChartStock,
  type ChartView,
  type DrawnBars,
  type DrawnSeries,
  type Frame,
  liveWindowOf,
} from './chart-frame.ts';
import { keepHover } from './chart-hover.ts';
import {
  type DrawnLines,
  drawnLines,
  drawnYRange,
  gridWidth,
  keepZoomFlag,
  type PlotArea,
  plotArea,
  plotScale,
} from './chart-internals.ts';
import {
  focusedTool,
  type KeyboardPlace,
  keyboardPlace,
  refocusTool,
  resumeKeyboard,
} from './chart-keyboard.ts';
import { baseOptions, frameOptions, initialOptions } from './chart-options.ts';
import { drawOverlay } from './chart-overlay.ts';
import { chartTooltip } from './chart-tooltip.ts';
import { createViewState } from './chart-view-state.ts';
import { createDrawScheduler } from './draw-scheduler.ts';
import { FIRST_DATA_DRAW_MARK } from './first-draw.ts';
import {
  createFrameCookieWriter,
  dropFrameUnlessShowing,
  firstFrameIn,
  type ShownView,
} from './first-frame.ts';
import { formatAxisDollars, formatAxisPercent, formatLogAxisDollars, formatTooltipTime } from './format.ts';
import type { BarRun } from './provider-bars.ts';
import type { RangeKey, TimeWindow } from './ranges.ts';
import type { Point, SeriesChange, SeriesStore } from './series-store.ts';
import { fromAxisTime, type TimeZoneChoice, timeZoneOf, toAxisTime, viewerTimeZone } from './time-zone.ts';
import { axisValue, type ChartMode } from './value-scale.ts';

export type { ChartStock, ChartView, DrawnBars, DrawnSeries } from './chart-frame.ts';
export type { DrawnLines, PlotArea } from './chart-internals.ts';
export type { ChartMode } from './value-scale.ts';

export interface PriceChartOptions {
  /** The viewer zoomed, panned, reset or went back to live; `detailWanted` asks for finer history there. */
  onViewChange?(view: ChartView, detailWanted: boolean): void;
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

export function createPriceChart(
  el: HTMLElement,
  store: SeriesStore,
  options: PriceChartOptions = {},
): PriceChart {
  let stocks: ChartStock[] = [];
  let alertsByTicker: ReadonlyMap<string, readonly Point[]> = new Map();
  let barsByTicker: ReadonlyMap<string, BarRun> = new Map();
  const hidden = new Set<string>();
  let bandsOn = true;
  /** The frame being drawn (ApexCharts' render events and the tooltip read it)… */
  let frame: Frame | null = null;
  /** …and the last one whose render finished: what the snapshot reports as drawn. */
  let drawnFrame: Frame | null = null;
  let message = 'Loading prices…';

  let draws = 0;
  let lastDrawMs = 0;
  let firstDataDrawAt: number | null = null;
  /** Set while our own `updateOptions` runs, so its events are not mistaken for the viewer's. */
  let ownUpdate = false;

  const liveWindowNow = () =>
    liveWindowOf({ store, stocks, bars: barsByTicker, view: state.view, now: Date.now() });
  const state = createViewState({
    liveWindow: liveWindowNow,
    onViewChange: (view, detailWanted) => options.onViewChange?.(view, detailWanted),
    redraw: () => scheduler.schedule(),
    resume: () => scheduler.resume(),
  });
  const view = state.view;
  const scheduler = createDrawScheduler({
    requestFrame: (fn) => requestAnimationFrame(fn),
    draw,
    held: state.held,
    onError: (error) => console.error('stockstreamer: chart:', error),
  });
  const schedule = scheduler.schedule;

  /** An instant as an x value on ApexCharts' axis, whose local labels then read the chosen clock… */
  const toAxis = (ms: number) => toAxisTime(view.timeZone, ms);
  /** …and back. */
  const fromAxis = (x: number) => fromAxisTime(view.timeZone, x);
  const tooltipText = {
    companyName: (ticker: string) => stocks.find((s) => s.ticker === ticker)?.companyName,
    time: (ms: number) => formatTooltipTime(ms, timeZoneOf(view.timeZone)),
  };
  function axisLabel(value: number): string {
    const shown = axisValue(view.mode, view.logScale, value);
    if (view.mode === 'percent') return formatAxisPercent(shown);
    return view.logScale ? formatLogAxisDollars(shown) : formatAxisDollars(shown);
  }

  const overlay = () => drawOverlay(el, frame, plotScale(chart, toAxis));
  const config = baseOptions({
    axisLabel,
    tooltip: tooltipHtml,
    reset: () => state.backToLive(),
    noDataText: message,
    events: {
      mounted: overlay,
      updated: overlay,
      zoomed: (_chart, range) => {
        if (ownUpdate) return;
        const window = xRange(range, fromAxis);
        if (window) state.zoomed(window);
      },
      scrolled: (_chart, range) => {
        if (ownUpdate) return;
        // a pan drag: remembered; drawing waits for the pointer to come up
        const window = xRange(range, fromAxis);
        if (window) state.panned(window);
      },
    },
  });
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
  /** The zone the time axis reads, by name. */
  const axisZone = () => timeZoneOf(view.timeZone) ?? viewerTimeZone();
  /**
   * The server's first frame (first-frame.ts), if it drew one into `el`: it stays until the chart is
   * created, unless the page is to show something else first (a choice made before then, a message).
   */
  const shownView = (): ShownView => ({
    range: view.range,
    mode: view.mode,
    logScale: view.logScale,
    bandsOn,
    hiddenLines: hidden.size,
    timeZone: axisZone(),
  });
  const checkFirstFrame = () => dropFrameUnlessShowing(el, shownView());
  /** A view setter that then checks the first frame still shows the view. */
  const checkingFrame =
    <T>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      checkFirstFrame();
    };
  const writeFrameCookie = createFrameCookieWriter(document);
  const library = import('./apexcharts-bundle.ts').then((m) => m.ApexCharts);
  let resolveCreated: (chart: ApexCharts) => void = () => {};
  /** Resolves with the chart once the first draw has made it. */
  const created = new Promise<ApexCharts>((resolve) => {
    resolveCreated = resolve;
  });
  const hover = keepHover(el);

  function tooltipHtml(seriesIndex: number, dataPointIndex: number): string {
    const tip = chartTooltip(frame, seriesIndex, dataPointIndex, tooltipText);
    // Reached from the keyboard (the chart has focus): read the point out, politely. A pointer's hover
    // is not announced, which would talk over everything else on the page.
    // The same text again (a redraw resuming the point) is not set again: it would be announced again.
    const said = tip?.readout;
    if (said && el.contains(document.activeElement) && readout.textContent !== said)
      readout.textContent = said;
    return tip?.html ?? '';
  }

  function hiddenMessage(): string {
    if (stocks.length > 0 && stocks.every((s) => hidden.has(s.ticker))) {
      return 'Every line is hidden: pick a ticker below to show it';
    }
    return message;
  }

  /** The plot's width in px: the M4 column count and the marker spacing depend on it. */
  function plotWidth(): number {
    const width = gridWidth(chart);
    return Math.max(10, Math.round(width && width > 0 ? width : el.clientWidth - AXIS_ROOM_PX));
  }

  function nextFrame(): Frame {
    return buildFrame({
      store,
      stocks,
      hidden,
      view,
      bandsOn,
      bars: barsByTicker,
      alerts: alertsByTicker,
      width: plotWidth(),
      now: Date.now(),
    });
  }

  function optionsFor(next: Frame): ApexCharts.ApexOptions {
    return frameOptions(next, {
      toAxis,
      axisLabel,
      focused: el.contains(document.activeElement),
      noDataText: hiddenMessage(),
    });
  }

  async function draw(): Promise<void> {
    // Before the page knows its tickers there is nothing to draw: the placeholder says it is loading.
    if (!chart && !stocksKnown) return;
    const Apex = chart ? undefined : await library;
    if (firstDataDrawAt === null) performance.mark('stockstreamer:first-draw-start');
    const next = nextFrame();
    const started = performance.now();
    frame = next;
    state.showing(next.window);
    if (!chart && Apex) {
      const instance = new Apex(el, initialOptions(config, optionsFor(next)));
      placeholder.remove();
      firstFrameIn(el)?.remove();
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
    const tool = focusedTool(el);
    const reading = keyboardPlace(el, instance, drawnFrame);
    ownUpdate = true;
    try {
      // overwriteInitialConfig stays false: with it, ApexCharts deep-cloned every series as its "initial"
      // state on each update (a third of a draw's time), for a reset that this chart does itself
      await instance.updateOptions(optionsFor(next), false, false, false, false);
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
    reading: KeyboardPlace | null,
  ): void {
    keepZoomFlag(instance, !view.following);
    drawnFrame = next;
    lastDrawMs = performance.now() - started;
    draws++;
    if (firstDataDrawAt === null && next.series.length > 0) {
      firstDataDrawAt = performance.now();
      performance.mark(FIRST_DATA_DRAW_MARK);
    }
    if (tool) refocusTool(el, tool);
    if (reading) resumeKeyboard(el, instance, frame, reading);
    hover.restore();
    writeFrameCookie(el.clientWidth, el.clientHeight, axisZone());
  }

  // A re-render under a drag (zoom selection, pan) would cut the gesture short: drawing is held until it
  // ends (chart-view-state.ts, which also has a backstop for a pointerup the page never hears).
  el.addEventListener('pointerdown', () => state.press());
  window.addEventListener('pointerup', state.release);
  window.addEventListener('pointercancel', state.release);
  // Escape is the keyboard's way back to live (ApexCharts' own Escape-resets-zoom is off with its reset).
  el.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !view.following) state.backToLive();
  });

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
      checkFirstFrame();
      schedule();
    },
    isHidden: (ticker) => hidden.has(ticker),
    setRange: checkingFrame(state.setRange),
    setMode: checkingFrame(state.setMode),
    setLogScale: checkingFrame(state.setLogScale),
    setTimeZone: checkingFrame(state.setTimeZone),
    backToLive: state.backToLive,
    setBands(on) {
      if (bandsOn === on) return;
      bandsOn = on;
      checkFirstFrame();
      schedule();
    },
    bandsShown: () => bandsShown(bandsOn, view.mode),
    lines: () => (drawnFrame ? drawnLines(chart) : null),
    async pngUrl() {
      const out = await (await created).dataURI({ scale: 2 });
      return 'imgURI' in out ? out.imgURI : URL.createObjectURL(out.blob);
    },
    view: state.copy,
    liveWindow: liveWindowNow,
    setMessage(text) {
      message = text;
      placeholder.textContent = text;
      firstFrameIn(el)?.remove(); // a frame would contradict what the message says
      void chart?.updateOptions({ noData: { text: hiddenMessage() } }, false, false);
    },
    snapshot: () => ({
      view: state.copy(),
      plot: plotArea(el, chart),
      series: drawnFrame?.series ?? [],
      bars: drawnFrame?.bars ?? [],
      yRange: drawnFrame ? drawnYRange(chart) : null,
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
