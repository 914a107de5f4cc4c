/**
 * "Last tick 14:03:07" beside the status pill, on whose clock the chart reads (the viewer's or, marked ET,
 * the exchanges'): written again when the clock is switched.
 */
import { formatClock } from './format.ts';
import { type TimeZoneChoice, timeZoneOf } from './time-zone.ts';

export interface LastUpdate {
  show(ms: number): void;
  /** The clock changed: say the same time on the new one. */
  redraw(): void;
}

export function createLastUpdate(el: HTMLTimeElement, timeZone: () => TimeZoneChoice): LastUpdate {
  let last: number | null = null;
  function show(ms: number): void {
    last = ms;
    const choice = timeZone();
    el.textContent = `Last tick ${formatClock(ms, timeZoneOf(choice))}${choice === 'exchange' ? ' ET' : ''}`;
    el.dateTime = new Date(ms).toISOString();
  }
  return {
    show,
    redraw() {
      if (last !== null) show(last);
    },
  };
}
