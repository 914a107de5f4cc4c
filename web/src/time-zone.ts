/**
 * Which clock the page's times are in: the viewer's own, or the exchanges' (New York), where a trading
 * day is 09:30–16:00 whatever the viewer's zone. The choice is remembered in this browser.
 *
 * ApexCharts draws a time axis only in the browser's zone or in UTC. For the exchanges' clock the charts
 * move every x value by the difference between the two zones' UTC offsets at that instant (`axisShift`),
 * so the axis's local labels read New York's wall clock; every time that leaves the chart (zoom and pan
 * ranges, tooltips) is moved back or read from the unshifted points.
 */

import { dateFormat } from './format.ts';

export type TimeZoneChoice = 'viewer' | 'exchange';

/** The US exchanges' zone (NYSE and Nasdaq). */
export const EXCHANGE_TIME_ZONE = 'America/New_York';

const STORAGE_KEY = 'stockstreamer:time-zone';

/** The IANA zone to format times in: undefined for the viewer's own (the formatter's default). */
export function timeZoneOf(choice: TimeZoneChoice): string | undefined {
  return choice === 'exchange' ? EXCHANGE_TIME_ZONE : undefined;
}

let viewerZone: string | undefined;

/**
 * The viewer's zone as the browser names it, e.g. `Europe/Berlin`. Asked once: making the formatter that
 * answers costs ~0.1 ms, and the axis asks for every point of every draw.
 */
export function viewerTimeZone(): string {
  viewerZone ??= Intl.DateTimeFormat().resolvedOptions().timeZone;
  return viewerZone;
}

const QUARTER_HOUR_MS = 15 * 60_000;
const offsets = new Map<string, number>();

/**
 * `timeZone`'s offset from UTC at the instant `ms`, in ms (New York in January: −5 h). Every zone's offset
 * is a whole number of quarter hours and changes only at a quarter hour, so one answer per zone and UTC
 * quarter hour is kept: the axis asks for every point of every draw, and each fresh answer costs a
 * formatToParts.
 */
export function zoneOffsetMs(timeZone: string, ms: number): number {
  const quarter = Math.floor(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  const key = `${timeZone} ${quarter}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    if (offsets.size > 100_000) offsets.clear(); // a year of quarter hours for three zones, then start over
    offset = computeOffsetMs(timeZone, quarter);
    offsets.set(key, offset);
  }
  return offset;
}

/** The offset at `quarter`, a whole number of seconds (a UTC quarter hour), as its wall clock reads it. */
function computeOffsetMs(timeZone: string, quarter: number): number {
  const format = dateFormat(
    {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    },
    'en-US',
  );
  const fields: Record<string, number> = {};
  for (const part of format.formatToParts(quarter)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    fields.year!,
    fields.month! - 1,
    fields.day!,
    fields.hour!,
    fields.minute!,
    fields.second!,
  );
  return wall - quarter;
}

/**
 * How far to move the instant `ms` on a chart axis drawn in `viewerZone`'s clock so that its labels read
 * `choice`'s clock: zero for the viewer's own.
 */
export function axisShift(choice: TimeZoneChoice, ms: number, viewer?: string): number {
  if (choice === 'viewer') return 0; // before anything else: this runs for every point of every draw
  const zone = viewer ?? viewerTimeZone();
  if (zone === EXCHANGE_TIME_ZONE) return 0;
  return zoneOffsetMs(EXCHANGE_TIME_ZONE, ms) - zoneOffsetMs(zone, ms);
}

/** An instant as an x value on a chart axis whose local labels read `choice`'s clock… */
export function toAxisTime(choice: TimeZoneChoice, ms: number, viewerZone?: string): number {
  return ms + axisShift(choice, ms, viewerZone);
}

/** …and back: shifted again from the first guess, which is an hour off next to a change of the clocks. */
export function fromAxisTime(choice: TimeZoneChoice, x: number, viewerZone?: string): number {
  return x - axisShift(choice, x - axisShift(choice, x, viewerZone), viewerZone);
}

/** The remembered choice; the viewer's own zone unless the exchanges' was picked here before. */
export function loadTimeZoneChoice(storage: Pick<Storage, 'getItem'> | null | undefined): TimeZoneChoice {
  try {
    return storage?.getItem(STORAGE_KEY) === 'exchange' ? 'exchange' : 'viewer';
  } catch {
    return 'viewer'; // storage refused (privacy settings): the default
  }
}

export function saveTimeZoneChoice(
  storage: Pick<Storage, 'setItem'> | null | undefined,
  choice: TimeZoneChoice,
): void {
  try {
    storage?.setItem(STORAGE_KEY, choice);
  } catch {
    // storage refused or full: the choice lasts until the page is left
  }
}
