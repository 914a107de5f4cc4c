import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './errors.ts';
import type { TickRepository } from './tick-repository.ts';

/**
 * How often each process folds the rollup's log (drizzle/0006_*). Between folds, readers take the logged
 * buckets from stock_prices; folding every few seconds keeps that log to a handful of rows.
 */
const ROLLUP_FOLD_EVERY_MS = 5000;

/**
 * Folds the rollup's log every `everyMs` until stopped. Every process that has a database runs one; the
 * fold takes a Postgres advisory lock, so only one runs at a time and the others skip that turn. A failed
 * fold leaves the log as it was (one transaction) and the next turn tries again.
 */
export function startRollupFolding(
  ticks: Pick<TickRepository, 'foldRollup'>,
  logger: Logger,
  everyMs = ROLLUP_FOLD_EVERY_MS,
): { fold(): Promise<void>; stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const fold = () => {
    running ??= ticks
      .foldRollup()
      .then(
        (tickers) => {
          if (tickers) logger.debug({ tickers }, 'rollup folded');
        },
        (error: unknown) =>
          isDatabaseUnavailable(error)
            ? logger.debug({ err: error }, 'rollup fold skipped: database unavailable')
            : logger.warn({ err: error }, 'rollup fold failed; the next one tries again'),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void fold();
  }, everyMs);
  timer.unref();
  return {
    fold,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
