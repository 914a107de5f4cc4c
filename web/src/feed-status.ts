/**
 * The status pill and the line under it say whether prices are arriving, not only whether the page is
 * connected: a connected page whose provider refuses the key used to say LIVE while the last tick froze.
 * The connection (tick-feed.ts) decides while it is down; once connected, the server's view of the feed
 * (Query.status, polled) decides: STALE or PROVIDER ERROR with the reason and the age instead of LIVE.
 */
import { showConnectionStatus } from './connection-status.ts';
import type { ConnectionStatus, FeedFreshness, FeedStatusAnswer } from './types.ts';

/** What the pill shows: the connection's state, or the feed's fault while connected. */
export type PillState = ConnectionStatus | 'stale' | 'provider error';

export function pillState(connection: ConnectionStatus, feed: FeedFreshness | undefined): PillState {
  if (connection !== 'live' || !feed) return connection;
  if (feed.state === 'PROVIDER_ERROR') return 'provider error';
  if (feed.state === 'STALE') return 'stale';
  return 'live';
}

/** The line under the pill: empty while live, else the server's reason (it carries the age). */
export function feedProblem(state: PillState, feed: FeedFreshness | undefined): string {
  if (state !== 'stale' && state !== 'provider error') return '';
  const label = state === 'stale' ? 'Prices are stale' : 'Provider error';
  return `${label}: ${feed?.reason ?? 'no recent price'}`;
}

/** A card's line: why this ticker has no fresh price, or undefined when it has one (or none was asked yet). */
export function tickerProblem(freshness: Pick<FeedFreshness, 'state' | 'reason'>): string | undefined {
  if (freshness.state !== 'PROVIDER_ERROR' && freshness.state !== 'STALE') return undefined;
  return freshness.reason ?? (freshness.state === 'STALE' ? 'no recent price' : 'provider error');
}

export interface FeedStatus {
  setConnection(status: ConnectionStatus): void;
  /** A tick just arrived: prices are live, whatever the last poll said. */
  tickArrived(): void;
}

export function createFeedStatus(options: {
  pill: HTMLElement;
  problem: HTMLElement;
  poll(signal: AbortSignal): Promise<FeedStatusAnswer>;
  everyMs: number;
  /** Each polled ticker's problem in words, or undefined when it is live (for its card). */
  onTicker(ticker: string, problem: string | undefined): void;
}): FeedStatus {
  let connection: ConnectionStatus = 'offline';
  let feed: FeedFreshness | undefined;

  const render = () => {
    const state = pillState(connection, feed);
    const problem = feedProblem(state, feed);
    if (state === 'stale' || state === 'provider error') {
      options.pill.textContent = state;
      options.pill.dataset.state = state.replace(' ', '-');
      options.pill.title = problem;
    } else {
      showConnectionStatus(options.pill, state);
    }
    options.problem.textContent = problem;
    options.problem.hidden = problem === '';
  };

  const poll = async () => {
    try {
      const answer = await options.poll(AbortSignal.timeout(options.everyMs));
      feed = answer.freshness;
      render();
      for (const { ticker, freshness } of answer.tickers) options.onTicker(ticker, tickerProblem(freshness));
    } catch {
      // Not reachable: the connection's own state says so; keep the last answer until the next poll.
    }
    setTimeout(() => void poll(), options.everyMs);
  };
  void poll();
  render();

  return {
    setConnection(status) {
      connection = status;
      render();
    },
    tickArrived() {
      if (feed?.state === 'LIVE') return;
      feed = { state: 'LIVE', reason: null, ageSeconds: 0, lastGoodAt: new Date().toISOString() };
      render();
    },
  };
}
