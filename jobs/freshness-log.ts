import type { Logger } from 'pino';
import type { Transition } from '../src/freshness-store.ts';

/**
 * A fault is logged when it starts and when it ends, not on every job: with a rejected key the price job
 * fails every interval, and a line each time buried everything else. The freshness store says which
 * fetches changed an outcome (atomically, so two workers never both report one change).
 *
 * When the deployment as a whole changed (no ticker got a price, or prices came back), that one line
 * speaks for every ticker; a ticker's own line is for a fault of that ticker alone.
 */
export function logTransitions(logger: Logger, provider: string, transitions: readonly Transition[]): void {
  const deployment = transitions.find((t) => t.ticker === undefined);
  const lines = deployment ? [deployment] : transitions;
  for (const t of lines) {
    const subject = t.ticker === undefined ? {} : { symbol: t.ticker };
    const what = t.ticker === undefined ? 'price feed' : 'price feed for one ticker';
    if (t.to !== 'ok') {
      logger.warn(
        { ...subject, provider, outcome: t.to, reason: t.reason },
        t.from === undefined || t.from === 'ok' ? `${what}: fault began` : `${what}: fault changed`,
      );
    } else if (t.from !== undefined) {
      logger.info(
        { ...subject, provider, was: t.from, faultSeconds: Math.round((t.heldMs ?? 0) / 1000) },
        `${what}: fault ended, prices are coming again`,
      );
    }
  }
}

const LOGGED = Symbol.for('stockstreamer.faultLogged');

/** Marks an error whose fault the freshness log has told, so the worker's "job failed" line can be quiet. */
export function markFaultLogged(error: unknown): void {
  if (error && typeof error === 'object') (error as Record<symbol, boolean>)[LOGGED] = true;
}

export function isFaultLogged(error: unknown): boolean {
  return Boolean(error && typeof error === 'object' && (error as Record<symbol, boolean>)[LOGGED]);
}
