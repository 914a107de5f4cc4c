/**
 * Waiting for the line chart's first draw with data (price-chart.ts marks it
 * `stockstreamer:first-data-draw`), so that work the viewer does not need to see prices comes after it
 * (late-panels.ts) instead of competing with it for the main thread.
 */
import type { Timers } from './timers.ts';

export const FIRST_DATA_DRAW_MARK = 'stockstreamer:first-data-draw';
/** However the first draw goes (nothing to draw, a hidden tab), the rest of the page comes after this. */
export const FIRST_DRAW_WAIT_MS = 2000;

export interface FirstDrawWaitOptions {
  /** Whether the first draw with data is done, or nothing is going to be drawn. */
  drawn(): boolean;
  /** Calls back before the next frame is painted (`requestAnimationFrame`). */
  nextFrame(callback: () => void): void;
  timers: Timers;
  giveUpMs?: number;
}

/**
 * Calls `callback` once, in a task after the frame that shows the first draw (so it does not hold that
 * frame back), or after `giveUpMs` if that draw does not come.
 */
export function afterFirstDataDraw(options: FirstDrawWaitOptions, callback: () => void): void {
  const { timers, giveUpMs = FIRST_DRAW_WAIT_MS } = options;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    timers.clearTimeout(giveUp);
    callback();
  };
  const giveUp = timers.setTimeout(finish, giveUpMs);
  const check = () => {
    if (done) return;
    // one more frame: the one the draw is painted in, then a task after it
    if (options.drawn()) options.nextFrame(() => timers.setTimeout(finish, 0));
    else options.nextFrame(check);
  };
  check();
}

/** Whether the chart has marked its first draw with data. */
export function firstDataDrawMarked(performance: Pick<Performance, 'getEntriesByName'>): boolean {
  return performance.getEntriesByName(FIRST_DATA_DRAW_MARK, 'mark').length > 0;
}
