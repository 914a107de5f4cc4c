/**
 * The provider line under the title: what the provider's plan buys (so a viewer knows how often a price can
 * come), whether it streams, whether it is answering, whether the market is closed, and how far a history
 * fill has got. Asked again every half minute, every second while history is being filled (the line counts
 * up). Two things it learns change what the page holds:
 * - a fill ending: the chart was drawn from what was stored then, so the window is read again — and only then
 *   is it "filled" (a failed read leaves it filling, so the next answer tries again);
 * - a market open or close: the cards' previous closes change, so the watchlist is read again.
 */
import { describeClosedMarket } from './format.ts';
import type { ProviderStatus } from './graphql-api.ts';
import { sleep, type Timers } from './timers.ts';

/** How often the provider line is asked again. */
export const PROVIDER_STATUS_EVERY_MS = 30 * 1000;
/** … and while history is being filled. */
export const HISTORY_FILL_EVERY_MS = 1000;

/** `8.3 s`, `66 s`, `2.3 h`: a plan's cadence as the provider line says it. */
export function formatEvery(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1).replace(/\.0$/, '')} min`;
  return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')} h`;
}

export interface ProviderLine {
  text: string;
  circuit: ProviderStatus['circuit'];
  market: 'open' | 'closed';
}

/** The line for `status`, and the states the page's CSS and tests read off it. */
export function describeProvider(status: ProviderStatus): ProviderLine {
  const cadence = status.priceEveryMs
    ? `a price each every ${formatEvery(status.priceEveryMs)}`
    : (status.plan ?? 'no request plan');
  const stream = {
    CONNECTED: ' · streaming',
    CONNECTING: ' · stream connecting',
    DOWN: ' · stream down, prices over REST',
    OFF: '',
  }[status.stream];
  const history = status.historyFill?.filling ? ` · filling history: ${status.historyFill.percent} %` : '';
  const market = status.market;
  const closed = market?.followsCalendar === true && !market.open;
  const line = (text: string): ProviderLine => ({
    text,
    circuit: status.circuit,
    market: closed ? 'closed' : 'open',
  });
  if (closed)
    return line(`${status.name} · ${describeClosedMarket(market.lastClose, market.nextOpen)}${history}`);
  if (status.circuit === 'CLOSED') return line(`${status.name} · ${cadence}${stream}${history}`);
  const next = status.nextProbeAt ? new Date(status.nextProbeAt).toLocaleTimeString() : 'soon';
  return line(
    `${status.name} · not answering; ${status.circuit === 'OPEN' ? `next try at ${next}` : 'trying again now'}`,
  );
}

export interface ProviderWatchOptions {
  status(): Promise<ProviderStatus>;
  show(line: ProviderLine): void;
  /** `data-history` on the line: whether history is still being filled. */
  showHistory(state: 'filling' | 'filled'): void;
  /** The market opened or closed since the last answer. */
  onSessionChange(): void;
  /** Reads the picked window's history again (a fill ended); a rejection keeps it counted as filling. */
  reloadHistory(): Promise<void>;
  onError(error: unknown): void;
  timers: Timers;
}

/** Asks for the provider's status until stopped; the first question goes out at once. */
export function watchProvider(options: ProviderWatchOptions): { stop(): void } {
  let stopped = false;
  void (async () => {
    // Counted as filling until told otherwise: a fill that ended between the first draw and the first
    // answer here still gets its window drawn again.
    let filling = true;
    /** The session state the cards' previous closes were read in: at an open or a close they change. */
    let session: string | undefined;
    while (!stopped) {
      try {
        const status = await options.status();
        options.show(describeProvider(status));
        const now = `${status.market?.open}|${status.market?.lastClose}`;
        if (session !== undefined && now !== session) options.onSessionChange();
        session = now;
        const nowFilling = status.historyFill?.filling === true;
        if (filling && !nowFilling) await options.reloadHistory();
        filling = nowFilling;
        options.showHistory(filling ? 'filling' : 'filled');
      } catch (error) {
        options.onError(error);
      }
      await sleep(options.timers, filling ? HISTORY_FILL_EVERY_MS : PROVIDER_STATUS_EVERY_MS);
    }
  })();
  return {
    stop() {
      stopped = true;
    },
  };
}
