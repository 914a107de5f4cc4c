/**
 * Keeping a page left open from growing without end: points that slid out of the picked range are forgotten
 * every hour, and live ticks older than an hour fold into minute columns every five minutes, as the server's
 * history would have sent them (a page left open for a day holds about a third of the points; the 1H range
 * keeps every tick). Not while the viewer is zoomed in: the detail loaded for the zoom is what they look at.
 */
import type { Timers } from './timers.ts';

/** How often the page forgets points that slid out of the window. */
export const PRUNE_EVERY_MS = 60 * 60 * 1000;
export const FOLD_EVERY_MS = 5 * 60 * 1000;

export interface SeriesUpkeepOptions {
  /** Forgets what is older than the picked range's start. */
  prune(): void;
  /** Folds live ticks older than the full-detail hour into minute columns. */
  fold(): void;
  /** Whether the chart follows live (is not zoomed or panned into the past). */
  following(): boolean;
  timers: Timers;
}

export function startSeriesUpkeep(options: SeriesUpkeepOptions): void {
  options.timers.setInterval(() => options.prune(), PRUNE_EVERY_MS);
  options.timers.setInterval(() => {
    if (options.following()) options.fold();
  }, FOLD_EVERY_MS);
}
