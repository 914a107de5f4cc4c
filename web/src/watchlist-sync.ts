/**
 * Reading the watchlist again: after an edit, when a tick names a ticker the page does not know (another
 * viewer added it), at a market open or close, and while a ticker just added still lacks its name, logo or
 * 52-week range (a job the server starts for it fills them in shortly).
 *
 * Unknown tickers come with every tick until the reload lands, so those reloads are coalesced: one in flight
 * or waiting at a time, and at most one per `coalesceMs`.
 */
import type { TimerHandle, Timers } from './timers.ts';
import type { Stock } from './types.ts';

/** At most one reload for unknown tickers per this long, however many come in. */
export const WATCHLIST_RELOAD_MS = 30 * 1000;
/** After a ticker is added, look for its name, logo and 52-week range this often, this many times. */
export const DETAILS_RELOAD_MS = 2000;
export const DETAILS_RELOADS = 10;

export interface WatchlistSyncOptions {
  fetch(): Promise<Stock[]>;
  /** Shows `watchlist` on the page; returns the enabled tickers that are new to it. */
  use(watchlist: readonly Stock[]): string[];
  /** Loads the picked range's history of tickers just added. */
  loadHistory(tickers: readonly string[]): Promise<void>;
  /** Whether the first load is done: before it, history is its business and unknown tickers wait for it. */
  loaded(): boolean;
  onError(error: unknown): void;
  timers: Timers;
  coalesceMs?: number;
  detailsEveryMs?: number;
  detailsTimes?: number;
}

export interface WatchlistSync {
  /** Reads the watchlist now; rejects if that fails. */
  reload(): Promise<void>;
  /** A tick named a ticker the page does not hold: reload soon, coalesced with the others. */
  unknownTicker(): void;
}

export function createWatchlistSync(options: WatchlistSyncOptions): WatchlistSync {
  const {
    timers,
    coalesceMs = WATCHLIST_RELOAD_MS,
    detailsEveryMs = DETAILS_RELOAD_MS,
    detailsTimes = DETAILS_RELOADS,
  } = options;
  let detailsReloads = 0;
  let detailsTimer: TimerHandle | undefined;
  let reloadTimer: TimerHandle | undefined;
  let lastReload = Number.NEGATIVE_INFINITY;

  async function reload(): Promise<void> {
    const watchlist = await options.fetch();
    const added = options.use(watchlist);
    if (options.loaded()) await options.loadHistory(added);
    const incomplete = watchlist.some(
      (s) => s.enabled && (!s.companyName || !s.logoUrl || s.high52Week === null),
    );
    if (incomplete) scheduleDetailsReload();
    else detailsReloads = 0;
  }

  function scheduleDetailsReload(): void {
    if (detailsTimer !== undefined || detailsReloads >= detailsTimes) return;
    detailsReloads++;
    detailsTimer = timers.setTimeout(() => {
      detailsTimer = undefined;
      reload().catch(options.onError);
    }, detailsEveryMs);
  }

  return {
    reload,
    unknownTicker() {
      if (reloadTimer !== undefined || !options.loaded()) return;
      const wait = Math.max(0, lastReload + coalesceMs - timers.now());
      reloadTimer = timers.setTimeout(async () => {
        lastReload = timers.now();
        try {
          await reload();
        } catch (error) {
          options.onError(error);
        } finally {
          reloadTimer = undefined;
        }
      }, wait);
    },
  };
}
