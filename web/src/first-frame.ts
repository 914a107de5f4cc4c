/**
 * The chart's first frame, as the page sees it: the default view (the last 7 days, prices in dollars,
 * linear, bands on, every line shown) that the server draws into the page's HTML with ApexCharts' own SSR
 * renderer (src/server/first-frame.ts, from first-frame-options.ts), so the week is on screen at the page's
 * first paint, while the chart's code is still loading. The live chart takes its place with its first draw
 * (price-chart.ts); before then it goes wherever the page is to show something else: its own style hides it
 * where a reload restored the controls to another view (`RESTORED_OTHER_VIEW`), from the first paint on, and
 * the chart checks every choice made before its first draw.
 *
 * Its size and clock come from a cookie the page writes after each draw (`createFrameCookieWriter`);
 * without one the server guesses the size and leaves the times out (it cannot know the viewer's clock),
 * and the frame shows only where the guess is right. The chart imports this module; it stays free of what
 * the frame is drawn with.
 */

import { DEFAULT_VIEW } from './chart-view-state.ts';
import type { RangeKey } from './ranges.ts';
import type { ChartMode } from './value-scale.ts';

/** The cookie that tells the server the chart's size and clock: `{width}x{height}` and `~{IANA zone}`. */
export const FRAME_COOKIE = 'stockstreamer-frame';

/**
 * A selector for index.html's controls when they show another view than the frame: what a reload restored
 * (the browser sets them as the parser makes them, before any script runs). The frame's style hides it
 * while one matches (src/server/first-frame-draw.ts), so the paints that come before the page's code
 * never show the wrong view.
 */
export const RESTORED_OTHER_VIEW = [
  `[data-testid="range-picker"] input:checked:not([value="${DEFAULT_VIEW.range}"])`,
  `[data-testid="mode-picker"] input:checked:not([value="${DEFAULT_VIEW.mode}"])`,
  `[data-testid="log-toggle"]${DEFAULT_VIEW.logScale ? ':not(:checked)' : ':checked'}`,
  '[data-testid="bands-toggle"]:not(:checked)',
].join(', ');

/** Sizes outside these are not a chart this page lays out: the cookie is ignored. */
const MIN_SIDE = 200;
const MAX_WIDTH = 4000;
const MAX_HEIGHT = 2000;

export interface FrameRequest {
  width: number;
  height: number;
  /** The clock the time axis reads; null when the server was not told (the frame then shows no times). */
  timeZone: string | null;
}

/** The cookie's value for a chart of `width` × `height` px whose axis reads `timeZone`. */
export function frameCookieValue(width: number, height: number, timeZone: string): string {
  return `${Math.round(width)}x${Math.round(height)}~${timeZone}`;
}

/**
 * The frame a `Cookie` header asks for, or null when it asks for none or for something no page of ours
 * wrote (the server then draws the guessed size). `isTimeZone` says whether a zone name is one the
 * server's clock knows.
 */
export function parseFrameCookie(
  header: string | undefined,
  isTimeZone: (zone: string) => boolean,
): FrameRequest | null {
  if (!header) return null;
  const prefix = `${FRAME_COOKIE}=`;
  const entry = header
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(prefix));
  if (!entry) return null;
  const match = /^(\d{1,4})x(\d{1,4})~([A-Za-z0-9_+\-/]{1,64})$/.exec(entry.slice(prefix.length));
  if (!match) return null;
  const width = Number(match[1]);
  const height = Number(match[2]);
  const timeZone = match[3]!;
  if (width < MIN_SIDE || width > MAX_WIDTH || height < MIN_SIDE || height > MAX_HEIGHT) return null;
  if (!isTimeZone(timeZone)) return null;
  return { width, height, timeZone };
}

/** What the page is about to show, as far as the frame is concerned. */
export interface ShownView {
  range: RangeKey;
  mode: ChartMode;
  logScale: boolean;
  bandsOn: boolean;
  /** How many lines the viewer hid. */
  hiddenLines: number;
  /** The zone the time axis reads (an IANA name); undefined when not known yet (not checked then). */
  timeZone?: string;
}

/** Whether a frame (its `data-*` attributes) shows `view`: the default view, on the same clock if it has times. */
export function frameShows(frame: Pick<HTMLElement, 'dataset'>, view: ShownView): boolean {
  const defaultView =
    view.range === DEFAULT_VIEW.range &&
    view.mode === DEFAULT_VIEW.mode &&
    view.logScale === DEFAULT_VIEW.logScale &&
    view.bandsOn &&
    view.hiddenLines === 0;
  const sameClock =
    frame.dataset.times !== 'on' || view.timeZone === undefined || frame.dataset.zone === view.timeZone;
  return defaultView && sameClock;
}

/** The frame in `container`, if the server drew one and it is still there. */
export function firstFrameIn(container: ParentNode): HTMLElement | null {
  return container.querySelector<HTMLElement>('[data-testid="first-frame"]');
}

/** Takes the frame away unless it shows `view`. */
export function dropFrameUnlessShowing(container: ParentNode, view: ShownView): void {
  const frame = firstFrameIn(container);
  if (frame && !frameShows(frame, view)) frame.remove();
}

/**
 * Tells the server, for the next load, the chart's size and clock. Written only when they change (a
 * cookie write is a synchronous call into the browser's cookie store).
 */
export function createFrameCookieWriter(
  doc: Pick<Document, 'cookie'>,
): (width: number, height: number, timeZone: string) => void {
  let written = '';
  return (width, height, timeZone) => {
    const value = frameCookieValue(width, height, timeZone);
    if (value === written || width < MIN_SIDE || height < MIN_SIDE) return;
    written = value;
    doc.cookie = `${FRAME_COOKIE}=${value}; path=/; max-age=31536000; samesite=lax`;
  };
}
