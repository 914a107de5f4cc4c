/**
 * The range picker's choices and the time window each one shows. Pure: "now" and the data's first point
 * are arguments, so the spec can table them.
 */

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** The longest window the server answers (graphql/arguments.ts, MAX_HISTORY_DAYS). "All" asks for this. */
export const MAX_WINDOW_MS = 366 * DAY_MS;

export type RangeKey = '1h' | '1d' | '7d' | '30d' | 'all';

export interface RangeChoice {
  key: RangeKey;
  /** What the button says. */
  label: string;
  /** What a screen reader and the tagline say. */
  description: string;
  /** How far back the window reaches. */
  ms: number;
}

export const RANGES: readonly RangeChoice[] = Object.freeze([
  { key: '1h', label: '1H', description: 'last hour', ms: HOUR_MS },
  { key: '1d', label: '1D', description: 'last day', ms: DAY_MS },
  { key: '7d', label: '7D', description: 'last 7 days', ms: 7 * DAY_MS },
  { key: '30d', label: '30D', description: 'last 30 days', ms: 30 * DAY_MS },
  { key: 'all', label: 'All', description: 'all history (a year at most)', ms: MAX_WINDOW_MS },
]);

/** The classic's window, and the page's default. */
export const DEFAULT_RANGE: RangeKey = '7d';

export function isRangeKey(value: unknown): value is RangeKey {
  return RANGES.some((range) => range.key === value);
}

export function rangeChoice(key: RangeKey): RangeChoice {
  return RANGES.find((range) => range.key === key) ?? RANGES.find((range) => range.key === DEFAULT_RANGE)!;
}

export interface TimeWindow {
  min: number;
  max: number;
}

/**
 * The window to draw for `key` while following live: it ends at `now` (or at the newest point, should the
 * server's clock run ahead of the viewer's) and reaches back the range's whole length, data or not — a
 * "last 30 days" axis over four minutes of data would say something untrue (the chart marks where history
 * starts instead). "All" is the exception: it is as long as the data (`firstTime`), not a year of blank.
 * A window never shrinks below a minute, so a first tick is not drawn on a zero-width axis.
 */
export function liveWindow(key: RangeKey, now: number, firstTime?: number, lastTime?: number): TimeWindow {
  const max = Math.max(now, lastTime ?? Number.NEGATIVE_INFINITY);
  let min = max - rangeChoice(key).ms;
  if (key === 'all' && firstTime !== undefined && Number.isFinite(firstTime) && firstTime > min)
    min = firstTime;
  if (max - min < 60_000) min = max - 60_000;
  return { min, max };
}

/**
 * The server measures a window against its own clock when the request arrives, which is later than the
 * page's `now` and may disagree with it: "All" asking for exactly the maximum was refused every time.
 */
const WINDOW_SLACK_MS = HOUR_MS;

/**
 * The `from` to ask history for when `key` is picked: the range's full length back from `now`, and never
 * a window the server would refuse.
 */
export function historyFrom(key: RangeKey, now: number): number {
  return now - Math.min(rangeChoice(key).ms, MAX_WINDOW_MS - WINDOW_SLACK_MS);
}
