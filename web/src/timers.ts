/**
 * The clock and timers the page's state machines run on (initial-load.ts, detail-loader.ts,
 * watchlist-sync.ts, provider-line.ts, series-upkeep.ts). Passed in rather than read from the globals, so
 * the specs drive them with a fake clock instead of sleeping, and say which timers a machine owns.
 */

export type TimerHandle = ReturnType<typeof setTimeout>;

export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  /** Wall-clock milliseconds (`Date.now()`): the windows the page asks history for end at it. */
  now(): number;
}

/** The page's own: the browser's timers and clock, looked up on each call (so fake timers apply in specs). */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle),
  setInterval: (callback, ms) => setInterval(callback, ms),
  now: () => Date.now(),
};

/** Resolves after `ms` on `timers`. */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms);
  });
}
