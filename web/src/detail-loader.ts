/**
 * Zoomed or panned in, the chart asks for that window's history at its width, so a zoomed line is as exact
 * as the full view. A wheel zoom or a drag is many view changes: the fetch waits until they settle, and a
 * newer window aborts the fetch of an older one, so only the window the viewer stopped at is drawn.
 */
import type { TimeWindow } from './ranges.ts';
import type { TimerHandle, Timers } from './timers.ts';

/** Wait this long after a zoom or pan settles before fetching its detail (a wheel zoom is many steps). */
export const DETAIL_DELAY_MS = 250;

export interface DetailLoaderOptions {
  /** Fetches and merges `window`'s history; `signal` aborts when a newer window supersedes it. */
  load(window: TimeWindow, signal: AbortSignal): Promise<void>;
  /** A fetch failed (not one aborted because superseded). */
  onError(error: unknown): void;
  timers: Timers;
  delayMs?: number;
}

export interface DetailLoader {
  /** The view settled on `window` (for now): fetch its detail once it stays there `delayMs`. */
  schedule(window: TimeWindow): void;
  /** The view went back to live: drop a waiting fetch and abort one under way (its window is gone). */
  cancel(): void;
}

export function createDetailLoader(options: DetailLoaderOptions): DetailLoader {
  const { timers, delayMs = DETAIL_DELAY_MS } = options;
  let timer: TimerHandle | undefined;
  let inFlight: AbortController | undefined;
  return {
    schedule(window) {
      timers.clearTimeout(timer);
      timer = timers.setTimeout(() => {
        timer = undefined;
        inFlight?.abort();
        const controller = new AbortController();
        inFlight = controller;
        options.load(window, controller.signal).catch((error) => {
          if (!controller.signal.aborted) options.onError(error);
        });
      }, delayMs);
    },
    cancel() {
      timers.clearTimeout(timer);
      timer = undefined;
      inFlight?.abort();
      inFlight = undefined;
    },
  };
}
