/**
 * The line chart's tooltips, as HTML strings for ApexCharts' `tooltip.custom`: a ticker's point (its
 * price, time and change since the window's start) or a provider bar (its span and OHLC, marked as not
 * observed live). Everything that comes from data is escaped. Pure: the clock and the company names are
 * passed in.
 */

import { drawnIndex, type Frame } from './chart-frame.ts';
import { escapeHtml, formatDollars, formatPercent } from './format.ts';
import { barAt } from './provider-bars.ts';
import { percentChange } from './series-math.ts';

/** What a tooltip reads besides the frame. */
export interface TooltipText {
  /** The company's name, when the page knows the ticker. */
  companyName(ticker: string): string | undefined;
  /** An instant on the chosen clock. */
  time(ms: number): string;
}

export interface Tooltip {
  html: string;
  /**
   * What a screen reader is told when the point was reached from the keyboard: ticker, time and price.
   * Null for a provider bar, which is not read out.
   */
  readout: string | null;
}

/**
 * The tooltip for ApexCharts' `seriesIndex` and `dataPointIndex` in `frame` (observed lines first, then
 * provider bars), or null when there is no point there.
 */
export function chartTooltip(
  frame: Frame | null,
  seriesIndex: number,
  dataPointIndex: number,
  text: TooltipText,
): Tooltip | null {
  const observed = frame?.series.length ?? 0;
  if (seriesIndex >= observed) {
    const html = barTooltipHtml(frame, seriesIndex - observed, dataPointIndex, text);
    return html === '' ? null : { html, readout: null };
  }
  const drawn = frame?.series[seriesIndex];
  const point = drawn?.points[drawnIndex(drawn.drawn, dataPointIndex)];
  if (!drawn || !point) return null;
  const [time, price] = point;
  const change =
    drawn.base !== undefined && drawn.base !== 0 ? formatPercent(percentChange(price, drawn.base)) : '';
  const html = [
    `<div class="tip" data-testid="chart-tooltip" style="--series:${escapeHtml(drawn.color)}">`,
    '<div class="tip-head">',
    `<strong class="tip-ticker">${escapeHtml(drawn.ticker)}</strong>`,
    `<span class="tip-name">${escapeHtml(text.companyName(drawn.ticker) ?? drawn.ticker)}</span></div>`,
    `<div class="tip-time">${escapeHtml(text.time(time))}</div>`,
    `<div class="tip-price"><span class="tip-dollars">${escapeHtml(formatDollars(price))}</span>`,
    change ? `<span class="tip-change">${escapeHtml(change)} since the window's start</span>` : '',
    '</div></div>',
  ].join('');
  return { html, readout: `${drawn.ticker}, ${text.time(time)}, ${formatDollars(price)}` };
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * A bar's span in the largest unit it is a whole number of (`1 day`, `4 h`, `15 min`, `90 s`), so that
 * 45 s is not "1 min", nor a daily bar "1,440 min"; minutes, rounded, past an hour.
 */
export function barSpan(ms: number): string {
  if (ms < HOUR_MS && ms % MINUTE_MS !== 0) return `${Math.round(ms / 1000).toLocaleString('en-US')} s`;
  if (ms % DAY_MS === 0) return ms === DAY_MS ? '1 day' : `${(ms / DAY_MS).toLocaleString('en-US')} days`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`;
  return `${Math.round(ms / MINUTE_MS).toLocaleString('en-US')} min`;
}

/** A provider bar says so, with its span, open, high, low, close and volume where the provider gave it. */
function barTooltipHtml(
  frame: Frame | null,
  barsIndex: number,
  dataPointIndex: number,
  text: TooltipText,
): string {
  const drawn = frame?.bars[barsIndex];
  const bar = drawn ? barAt(drawn.run, drawnIndex(drawn.index, dataPointIndex)) : undefined;
  if (!drawn || !bar) return '';
  const span = barSpan(bar.end - bar.time);
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
    `<span class="tip-name">${escapeHtml(text.companyName(drawn.ticker) ?? drawn.ticker)}</span></div>`,
    `<div class="tip-time">${escapeHtml(text.time(bar.time))}</div>`,
    `<div class="tip-price"><span class="tip-dollars">${escapeHtml(formatDollars(bar.close))}</span>`,
    `<span class="tip-change">provider bar, ${escapeHtml(span)}: not observed live</span></div>`,
    `<div class="tip-bar">${ohlc}${volume}</div>`,
    '</div>',
  ].join('');
}
