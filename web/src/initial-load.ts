/**
 * The page's first load, and keeping its history in step with the live stream around it.
 *
 * - The first load is retried with backoff until the server answers (it may still be starting); the live
 *   stream getting through means the server is back, so it ends the wait between attempts early.
 * - A backfill (what the stream missed, read from the page's last point on) asked for before the first
 *   load is done waits for it and runs once after, however many reconnects asked meanwhile: the load's
 *   own history does not cover ticks stored between its read and the stream's opening.
 * - History read before the stream was open (the entry's early requests, boot.ts) is backfilled once the
 *   stream first connects, for the same reason. Merging is idempotent, so an overlap is neither lost nor
 *   doubled.
 */
import type { Timers } from './timers.ts';

export interface InitialLoadOptions<T> {
  /**
   * Sends attempt number `attempt`'s requests (0 first). `beforeFeed` says whether its history was asked
   * for before the live stream could be open, so the stream's first connection must backfill.
   */
  fetch(attempt: number): { beforeFeed: boolean; data: Promise<T> };
  /** Puts the answer into the page, before it counts as loaded (changes are then drawn by `draw`, not one by one). */
  merge(data: T): void;
  /** The first full draw and whatever follows it, once loaded. A throw retries, as a failed fetch does. */
  draw(): void;
  /** Fetches what the stream missed; called only once loaded. Must not reject (it reports its own failure). */
  backfill(): Promise<void>;
  /** Attempt number `attempt` failed; the next starts after `delayMs`, or as soon as the stream connects. */
  onRetry(error: unknown, delayMs: number): void;
  retryDelayMs(attempt: number): number;
  timers: Timers;
}

export interface InitialLoad {
  /** Runs the first load to success (it never gives up); resolves once drawn. */
  start(): Promise<void>;
  loaded(): boolean;
  /** Fetch what the stream missed: now when loaded, else once right after the first load. */
  backfill(): void;
  /** The live stream connected: the first time (`resumed` false) or again after a drop. */
  connected(resumed: boolean): void;
}

export function createInitialLoad<T>(options: InitialLoadOptions<T>): InitialLoad {
  const { timers } = options;
  let loaded = false;
  /** A backfill was asked for before the first load was done. */
  let backfillAfterLoad = false;
  /** The first history was asked for before the stream was open: backfill once it is. */
  let historyBeforeFeed = false;
  /** Ends the wait between attempts early. */
  let retryNow: (() => void) | undefined;

  function backfill(): void {
    backfillAfterLoad = !loaded;
    if (loaded) void options.backfill();
  }

  function waitToRetry(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = timers.setTimeout(resolve, delayMs);
      retryNow = () => {
        timers.clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      retryNow = undefined;
    });
  }

  return {
    async start() {
      for (let attempt = 0; ; attempt++) {
        try {
          const { beforeFeed, data } = options.fetch(attempt);
          if (beforeFeed) historyBeforeFeed = true;
          options.merge(await data);
          loaded = true;
          options.draw();
          if (backfillAfterLoad) backfill();
          return;
        } catch (error) {
          const delayMs = options.retryDelayMs(attempt);
          options.onRetry(error, delayMs);
          await waitToRetry(delayMs);
        }
      }
    },
    loaded: () => loaded,
    backfill,
    connected(resumed) {
      retryNow?.();
      if (!resumed && historyBeforeFeed) {
        historyBeforeFeed = false;
        backfill();
      } else if (resumed) {
        backfill();
      }
    },
  };
}
