/**
 * The candle chart: one ticker's OHLC candles in a price pane and, under it, its volume as bars, the two
 * ApexCharts synced on one time axis (`chart.group`: one tooltip and crosshair across both). One ticker at
 * a time, since six tickers' candles overlaid cannot be read.
 *
 * The volume pane is there only where the candles have volume: observed ticks carry none (nor does the
 * simulated market), so it comes only from a provider's bars (src/db/candles.ts). Where there is none, the
 * pane gives its room back to the price pane and the page says why (`onVolume`).
 *
 * ApexCharts' candlestick and bar types are feature modules, loaded with a dynamic `import()` the first
 * time candles are shown: the line chart's page does not pay for them.
 */

import type ApexCharts from 'apexcharts/core';
import { CANDLE_INTERVAL_MS, type CandleRun, candleIntervalLabel, candleStart } from './candle-run.ts';
import { FONT_STACK, timeAxis } from './chart-style.ts';
import { escapeHtml, formatAxisDollars, formatDollars, formatTooltipTime } from './format.ts';
import type { TimeWindow } from './ranges.ts';
import { type TimeZoneChoice, timeZoneOf, toAxisTime } from './time-zone.ts';

/** Both panes' y-axes are this wide, so their plots line up under one another. */
const Y_LABEL_WIDTH = 56;
/** Light theme's up and down, for a browser that cannot read the page's own (styles.css --up/--down). */
const FALLBACK_UP = '#1a7f37';
const FALLBACK_DOWN = '#cf222e';
const GROUP = 'stockstreamer-candles';

/** What the candle chart needs to know of the ticker it draws. */
export interface CandleStock {
  ticker: string;
  companyName: string;
}

/** The candles drawn last, as the test hook reads them: the run's columns, and how they were drawn. */
export type DrawnCandles = Omit<CandleRun, 'lastTime'> & {
  /** Whether the volume pane is shown (some candle in the window has volume). */
  volumeShown: boolean;
  window: TimeWindow;
};

export interface CandleChartOptions {
  /** After each draw: whether there were candles, and whether they had volume (the page says why not). */
  onVolume?(candles: boolean, volume: boolean): void;
}

export interface CandleChart {
  /** Draws `run` (null: nothing to draw yet, `message` says why) of `stock` over `window`. */
  draw(stock: CandleStock | null, run: CandleRun | null, window: TimeWindow): void;
  setMessage(text: string): void;
  /** Whose clock the time axis and the tooltip read. */
  setTimeZone(choice: TimeZoneChoice): void;
  /** What was drawn last, or null before the first draw with candles. */
  snapshot(): DrawnCandles | null;
  /** The price pane as a PNG (ApexCharts' own export). */
  pngUrl(): Promise<string>;
}

/** `1.2M`, `34.5K`, `870`: a volume axis label. */
export function formatVolume(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(1).replace(/\.0$/, '')}B`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1).replace(/\.0$/, '')}K`;
  return String(Math.round(value));
}

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

export function createCandleChart(
  priceEl: HTMLElement,
  volumeEl: HTMLElement,
  options: CandleChartOptions = {},
): CandleChart {
  let drawn: DrawnCandles | null = null;
  let stock: CandleStock | null = null;
  let message = 'Loading candles…';
  let volumeShown = false;
  let priceChart: ApexCharts | undefined;
  let volumeChart: ApexCharts | undefined;
  let pending: { stock: CandleStock | null; run: CandleRun | null; window: TimeWindow } | null = null;
  let drawing: Promise<void> = Promise.resolve();
  let scheduled = false;
  let lastWindow: TimeWindow = { min: Date.now() - 3_600_000, max: Date.now() };
  let lastRun: CandleRun | null = null;
  let zone: TimeZoneChoice = 'viewer';
  const toAxis = (ms: number) => toAxisTime(zone, ms);

  /** Fetched by the first draw, not with the page: most visits never show candles. */
  let library: Promise<typeof ApexCharts> | undefined;

  function tooltipHtml(dataPointIndex: number): string {
    const d = drawn;
    const i = dataPointIndex;
    if (!d || d.times[i] === undefined) return '';
    const ohlc = (
      [
        ['O', d.open[i]],
        ['H', d.high[i]],
        ['L', d.low[i]],
        ['C', d.close[i]],
      ] as const
    )
      .map(([label, value]) => `<span>${label} ${escapeHtml(formatDollars(value ?? Number.NaN))}</span>`)
      .join(' ');
    const volume = d.volume[i];
    const color =
      d.close[i]! >= d.open[i]! ? cssColor('--up', FALLBACK_UP) : cssColor('--down', FALLBACK_DOWN);
    return [
      `<div class="tip" data-testid="candle-tooltip" style="--series:${escapeHtml(color)}">`,
      '<div class="tip-head">',
      `<strong class="tip-ticker">${escapeHtml(d.ticker)}</strong>`,
      `<span class="tip-name">${escapeHtml(stock?.companyName ?? d.ticker)}</span></div>`,
      `<div class="tip-time">${escapeHtml(formatTooltipTime(d.times[i]!, timeZoneOf(zone)))} · ${escapeHtml(candleIntervalLabel(d.interval).replace(/ candles.*$/, ''))}</div>`,
      `<div class="tip-bar tip-ohlc">${ohlc}</div>`,
      `<div class="tip-bar">volume ${volume === null || volume === undefined ? 'not given by the provider' : escapeHtml(volume.toLocaleString('en-US'))}</div>`,
      '</div>',
    ].join('');
  }

  function baseOptions(id: string, type: 'candlestick' | 'bar', height: string): ApexCharts.ApexOptions {
    return {
      chart: {
        id,
        group: GROUP,
        type,
        height,
        fontFamily: FONT_STACK,
        background: 'transparent',
        parentHeightOffset: 0,
        animations: { enabled: false },
        toolbar: { show: false },
        zoom: { enabled: false },
        accessibility: { enabled: true },
      },
      theme: { follow: 'os' },
      series: [],
      dataLabels: { enabled: false },
      legend: { show: false },
      grid: { strokeDashArray: 3, padding: { left: 8, right: 12 } },
      xaxis: timeAxis(),
      tooltip: {
        shared: false,
        intersect: false,
        custom: ({ dataPointIndex }: { dataPointIndex: number }) => tooltipHtml(dataPointIndex),
      },
      noData: { text: message },
    };
  }

  async function ensureCharts(): Promise<void> {
    library ??= import('./apexcharts-candles-bundle.ts').then((m) => m.ApexCharts);
    const Apex = await library;
    if (!priceChart) {
      priceChart = new Apex(priceEl, {
        ...baseOptions('ss-candle-price', 'candlestick', '100%'),
        yaxis: { labels: { formatter: formatAxisDollars, minWidth: Y_LABEL_WIDTH, maxWidth: Y_LABEL_WIDTH } },
      });
      await priceChart.render();
    }
    if (volumeShown && !volumeChart) {
      volumeChart = new Apex(volumeEl, {
        ...baseOptions('ss-candle-volume', 'bar', '100%'),
        yaxis: {
          labels: { formatter: formatVolume, minWidth: Y_LABEL_WIDTH, maxWidth: Y_LABEL_WIDTH },
          tickAmount: 2,
          min: 0,
        },
        plotOptions: { bar: { columnWidth: '70%' } },
        // The price pane's tooltip (synced) says it all; this one says only what this pane shows.
        tooltip: {
          shared: false,
          intersect: false,
          custom: ({ dataPointIndex }: { dataPointIndex: number }) => {
            const volume = drawn?.volume[dataPointIndex];
            return volume === null || volume === undefined
              ? ''
              : `<div class="tip tip-volume">volume ${escapeHtml(volume.toLocaleString('en-US'))}</div>`;
          },
        },
      });
      await volumeChart.render();
    } else if (!volumeShown && volumeChart) {
      volumeChart.destroy();
      volumeChart = undefined;
    }
  }

  async function render(): Promise<void> {
    const next = pending;
    pending = null;
    if (!next) return;
    const { run, window } = next;
    stock = next.stock;
    lastWindow = window;
    lastRun = run;
    const span = run ? CANDLE_INTERVAL_MS[run.interval] : 0;
    const hasVolume =
      run?.volume.some(
        (v, i) => v !== null && run.times[i]! + span > window.min && run.times[i]! <= window.max,
      ) === true;
    if (hasVolume !== volumeShown) {
      volumeShown = hasVolume;
      volumeEl.parentElement!.hidden = !hasVolume;
    }
    options.onVolume?.(run !== null && run.times.length > 0, hasVolume);
    await ensureCharts();
    const up = cssColor('--up', FALLBACK_UP);
    const down = cssColor('--down', FALLBACK_DOWN);
    // The last candle reaches past "now" by up to an interval: the axis shows all of it.
    const max =
      run && run.times.length > 0
        ? Math.max(window.max, run.times[run.times.length - 1]! + CANDLE_INTERVAL_MS[run.interval])
        : window.max;
    // …and starts on the grid, so the first candle (its start before the window's) is drawn whole.
    const min = run ? candleStart(window.min, CANDLE_INTERVAL_MS[run.interval]) : window.min;
    const xaxis = { min: toAxis(min), max: toAxis(max) };
    const candles = run
      ? run.times.map((x, i) => ({
          x: toAxis(x),
          y: [run.open[i]!, run.high[i]!, run.low[i]!, run.close[i]!],
        }))
      : [];
    // A copy: the run the view holds moves on with the next tick, this stays what was drawn.
    if (run) {
      const { lastTime: _newest, ...columns } = structuredClone(run);
      drawn = { ...columns, volumeShown, window: { min, max } };
    } else drawn = null;
    await priceChart!.updateOptions(
      {
        series: [{ name: run?.ticker ?? '', type: 'candlestick', data: candles }],
        plotOptions: {
          candlestick: { colors: { upward: up, downward: down }, wick: { useFillColor: true } },
        },
        xaxis: { ...xaxis, labels: { show: !volumeShown } },
        noData: { text: message },
        chart: {
          accessibility: {
            description: run
              ? `${run.ticker}: ${candleIntervalLabel(run.interval)}, open, high, low and close of each.`
              : message,
          },
        },
      },
      false,
      false,
      false,
    );
    if (volumeChart && run) {
      // Each bar in the colour of its candle: up green, down red, as traders read volume.
      const colors = run.times.map((_, i) => (run.close[i]! >= run.open[i]! ? up : down));
      await volumeChart.updateOptions(
        {
          series: [
            {
              name: 'Volume',
              data: run.times.map((x, i) => ({
                x: toAxis(x),
                y: run.volume[i] ?? null,
                fillColor: colors[i],
              })),
            },
          ],
          xaxis,
        },
        false,
        false,
        false,
      );
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      drawing = drawing.then(render).catch((error) => console.error('stockstreamer: candle chart:', error));
    });
  }

  return {
    draw(nextStock, run, window) {
      pending = { stock: nextStock, run, window };
      schedule();
    },
    setMessage(text) {
      message = text;
      pending ??= { stock, run: null, window: lastWindow };
      schedule();
    },
    setTimeZone(choice) {
      if (choice === zone) return;
      zone = choice;
      // Nothing drawn yet (candles never picked): the first draw reads the zone; asking for one here would
      // load the candle library on every visit.
      if (!priceChart) return;
      pending ??= { stock, run: lastRun, window: lastWindow };
      schedule();
    },
    snapshot: () => (drawn ? structuredClone(drawn) : null),
    async pngUrl() {
      await drawing;
      if (!priceChart) throw new Error('no candles drawn yet');
      const out = await priceChart.dataURI({ scale: 2 });
      return 'imgURI' in out ? out.imgURI : URL.createObjectURL(out.blob);
    },
  };
}
