/**
 * The page's composition root: builds the store, the views and the two connections, and wires them.
 *
 * Order matters for not missing a tick: the live subscription opens first and its ticks go into the store
 * straight away; the 7-day history is fetched after, and merging is idempotent, so whatever arrived in
 * between is neither lost nor doubled. After a reconnect, the ticks missed while away are fetched as history
 * from the store's last point on.
 */
import { showConnectionStatus } from './connection-status.ts';
import { formatClock } from './format.ts';
import { createGraphqlApi } from './graphql-api.ts';
import { createPriceChart } from './price-chart.ts';
import { retryDelayMs } from './reconnect-policy.ts';
import { createSeriesStore, type SeriesChange } from './series-store.ts';
import { installTestHook } from './test-hook.ts';
import { startTickFeed } from './tick-feed.ts';
import { createTickerCards } from './ticker-cards.ts';
import type { Stock } from './types.ts';

/** The chart's default window: the last 7 days. */
const HISTORY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
/** A backfill re-reads this much before the last point it has, in case the last fetch was partial. */
const BACKFILL_OVERLAP_MS = 60 * 1000;
/** How often the page forgets points that slid out of the window. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** At most one watchlist reload per this long, however many unknown tickers come in. */
const WATCHLIST_RELOAD_MS = 30 * 1000;

/**
 * The width to ask history for: the chart's own, in CSS pixels, within what the server accepts. Undefined
 * (the server's default) while the chart has no layout yet.
 */
function chartWidth(el: HTMLElement): number | undefined {
  const width = Math.round(el.clientWidth);
  return width > 0 ? Math.min(5000, Math.max(10, width)) : undefined;
}

function required<T extends HTMLElement = HTMLElement>(testid: string): T {
  const el = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`index.html lost its [data-testid="${testid}"] element`);
  return el;
}

function main(): void {
  const statusEl = required('connection-status');
  const updatedEl = required<HTMLTimeElement>('last-update');
  const store = createSeriesStore();
  const api = createGraphqlApi('/graphql');
  let stocks = new Map<string, Stock>();
  let loaded = false;
  /** Ends the first load's wait between attempts early. */
  let retryLoadNow: (() => void) | undefined;
  /** A reconnect happened while the first load was in flight: backfill once it is done. */
  let backfillAfterLoad = false;

  const chartEl = required('price-chart');
  const chart = createPriceChart(chartEl, store, {
    describe: (ticker) => {
      const name = stocks.get(ticker)?.companyName;
      return name ? `${ticker} · ${name}` : ticker;
    },
    onVisibilityChange: (ticker, hidden) => cards.setHidden(ticker, hidden),
  });
  const cards = createTickerCards(required('ticker-cards'), store, {
    onToggle: (ticker) => chart.toggle(ticker),
  });
  installTestHook(window, chart);

  function apply(change: SeriesChange): void {
    if (change.unknown.size > 0) scheduleWatchlistReload();
    if (!loaded) return; // the first full draw, after history, picks it all up
    chart.update(change);
    cards.refresh(change.rewritten.size > 0 || change.structural ? undefined : change.appended.keys());
  }

  function showLastUpdate(ms: number): void {
    updatedEl.textContent = `Last tick ${formatClock(ms)}`;
    updatedEl.dateTime = new Date(ms).toISOString();
  }

  /** Watchlist into store and cards. Returns the enabled tickers that are new to the page. */
  function useWatchlist(watchlist: readonly Stock[]): string[] {
    const enabled = watchlist.filter((stock) => stock.enabled);
    const added = enabled.map((s) => s.ticker).filter((ticker) => !store.has(ticker));
    stocks = new Map(enabled.map((stock) => [stock.ticker, stock]));
    const change = store.setTickers(enabled.map((stock) => stock.ticker));
    if (change.structural) cards.render(enabled);
    apply(change);
    return added;
  }

  async function loadHistory(tickers: readonly string[], from: Date): Promise<void> {
    if (tickers.length === 0) return;
    apply(store.mergeHistory(await api.priceHistory({ tickers, from, width: chartWidth(chartEl) })));
  }

  /** First load, retried with backoff until the server answers (it may still be starting). */
  async function initialLoad(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const tickers = useWatchlist(await api.watchlist());
        await loadHistory(tickers, new Date(Date.now() - HISTORY_WINDOW_MS));
        loaded = true;
        chart.update({ structural: true, rewritten: new Set(), appended: new Map(), unknown: new Set() });
        cards.refresh();
        const newest = Math.max(
          ...store.tickers().map((ticker) => store.latest(ticker)?.[0] ?? Number.NEGATIVE_INFINITY),
        );
        if (Number.isFinite(newest)) showLastUpdate(newest);
        if (backfillAfterLoad) void backfill();
        if (store.tickers().length === 0) chart.setMessage('The watchlist is empty');
        return;
      } catch (error) {
        const delay = retryDelayMs(attempt);
        console.warn('stockstreamer: loading prices failed:', error);
        chart.setMessage(`Can't load prices — retrying in ${Math.ceil(delay / 1000)} s`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          // the live stream getting through means the server is back: don't sit out the backoff
          retryLoadNow = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        retryLoadNow = undefined;
      }
    }
  }

  /** After a reconnect: fetch what the subscription missed, from the oldest "last point" on. */
  async function backfill(): Promise<void> {
    backfillAfterLoad = !loaded;
    if (!loaded) return;
    const windowStart = Date.now() - HISTORY_WINDOW_MS;
    const resume = store.resumeFrom();
    const from = resume === null ? windowStart : Math.max(windowStart, resume - BACKFILL_OVERLAP_MS);
    try {
      await loadHistory(store.tickers(), new Date(from));
    } catch (error) {
      console.warn('stockstreamer: backfill after reconnect failed:', error);
    }
  }

  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let lastReload = 0;
  function scheduleWatchlistReload(): void {
    if (reloadTimer !== undefined || !loaded) return;
    const wait = Math.max(0, lastReload + WATCHLIST_RELOAD_MS - Date.now());
    reloadTimer = setTimeout(async () => {
      lastReload = Date.now();
      try {
        const added = useWatchlist(await api.watchlist());
        await loadHistory(added, new Date(Date.now() - HISTORY_WINDOW_MS));
      } catch (error) {
        console.warn('stockstreamer: reloading the watchlist failed:', error);
      } finally {
        reloadTimer = undefined;
      }
    }, wait);
  }

  const feed = startTickFeed({
    url: '/graphql',
    onTicks(ticks) {
      apply(store.mergeTicks(ticks));
      const newest = Math.max(...ticks.map((tick) => Date.parse(tick.time)).filter(Number.isFinite));
      if (Number.isFinite(newest)) showLastUpdate(newest);
    },
    onStatus: (status) => showConnectionStatus(statusEl, status),
    onConnected(resumed) {
      retryLoadNow?.();
      if (resumed) void backfill();
    },
  });

  // Come back quickly rather than at the end of a long backoff.
  window.addEventListener('online', () => feed.retryNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') feed.retryNow();
  });
  setInterval(() => apply(store.pruneBefore(Date.now() - HISTORY_WINDOW_MS)), PRUNE_EVERY_MS);

  void initialLoad();
}

main();
