/**
 * The page's composition root: builds the store, the views and the connections, and wires them. Each
 * timer-driven part is a module of its own that takes its collaborators and a clock (timers.ts):
 * - initial-load.ts: the first load, retried with backoff; backfills around the live stream's (re)connects;
 * - watchlist-sync.ts: reading the watchlist again (edits, unknown tickers, details of a ticker just added);
 * - detail-loader.ts: a zoomed window's history, once the zoom settles;
 * - provider-line.ts: the provider line, and the reloads a history fill or a market open/close calls for;
 * - series-upkeep.ts: forgetting and folding old points of a page left open.
 * The controls are view-controls.ts; the alert rules editor and candles are late-panels.ts, built only after
 * the first draw with data (first-draw.ts).
 *
 * Not missing a tick: the first history was asked for by the entry (boot.ts), before the live subscription
 * could open, so once the subscription is open the page fetches history again from its last point on
 * (a backfill, as after a reconnect); merging is idempotent, so whatever arrived in between is neither
 * lost nor doubled. After a reconnect, the ticks missed while away are fetched the same way.
 */

import { createAdminSession } from './admin-session.ts';
import { createAlertPanel } from './alert-panel.ts';
import { watchedStocks } from './chart-frame.ts';
import { createChartLegend } from './chart-legend.ts';
import { createDetailLoader } from './detail-loader.ts';
import { createFeedStatus } from './feed-status.ts';
import { afterFirstDataDraw, firstDataDrawMarked } from './first-draw.ts';
import { type FirstLoad, historyWidth } from './first-load.ts';
import { createGraphqlApi } from './graphql-api.ts';
import { createInitialLoad } from './initial-load.ts';
import { createLastUpdate } from './last-update.ts';
import type { LatePanels } from './late-panels.ts';
import { required, safeSessionStorage } from './page-dom.ts';
import { createPageHistory } from './page-history.ts';
import { installPageTestHook } from './page-test-hook.ts';
import { seriesColor } from './palette.ts';
import { type ChartStock, createPriceChart } from './price-chart.ts';
import { watchProvider } from './provider-line.ts';
import { historyFrom } from './ranges.ts';
import { retryDelayMs } from './reconnect-policy.ts';
import { foldBefore } from './series-math.ts';
import { createSeriesStore, emptyChange, type SeriesChange } from './series-store.ts';
import { startSeriesUpkeep } from './series-upkeep.ts';
import { startTickFeed } from './tick-feed.ts';
import { createTickerCards } from './ticker-cards.ts';
import { timeZoneOf } from './time-zone.ts';
import { systemTimers } from './timers.ts';
import type { Stock } from './types.ts';
import { wireViewControls } from './view-controls.ts';
import { createWatchlistEditor } from './watchlist-editor.ts';
import { createWatchlistSync } from './watchlist-sync.ts';

/** A backfill re-reads this much before the last point it has, in case the last fetch was partial. */
const BACKFILL_OVERLAP_MS = 60 * 1000;
/** How often the page asks whether prices are arriving (the server's freshness view). */
const FEED_STATUS_EVERY_MS = 5000;
const MINUTE_MS = 60_000;
/** How far back live ticks are kept as they came; older ones fold into minute columns. */
const FULL_DETAIL_MS = 60 * MINUTE_MS;

/** Builds the page; `firstLoad` holds the requests the entry (boot.ts) already sent for the first draw. */
export function startPage(firstLoad?: FirstLoad): void {
  performance.mark('stockstreamer:start');
  const timers = systemTimers;
  const chartEl = required('price-chart');
  /** Where the picked range starts now, and the history `width` for the chart as it is laid out. */
  const rangeStart = () => historyFrom(controls.range(), timers.now());
  const chartHistoryWidth = () => historyWidth(chartEl.clientWidth);
  const warnWatchlist = (error: unknown) =>
    console.warn('stockstreamer: reloading the watchlist failed:', error);
  const liveButton = required<HTMLButtonElement>('back-to-live');
  const providerEl = required('provider-status');

  const store = createSeriesStore();
  const session = createAdminSession(safeSessionStorage());
  const api = createGraphqlApi({ url: '/graphql', adminToken: () => session.token() });
  const feedStatus = createFeedStatus({
    pill: required('connection-status'),
    problem: required('feed-problem'),
    poll: (signal) => api.status(signal),
    everyMs: FEED_STATUS_EVERY_MS,
    onTicker: (ticker, problem) => cards.setProblem(ticker, problem),
  });
  let colors = new Map<string, string>();
  let chartStocks: ChartStock[] = [];
  /** The alert rules editor and candles: built after the first draw (late-panels.ts). */
  let late: LatePanels | undefined;
  /** The permissions asked for with the first load's last attempt (they show or hide the editors). */
  let permissions: Promise<void> = Promise.resolve();
  const colorOf = (ticker: string) => colors.get(ticker) ?? seriesColor(0);

  const chart = createPriceChart(chartEl, store, {
    onViewChange(view, detailWanted) {
      liveButton.hidden = view.following;
      if (view.following) detail.cancel();
      else if (detailWanted && view.window) detail.schedule(view.window);
    },
  });
  const legend = createChartLegend(required('chart-legend'), { onToggle: (ticker) => toggle(ticker) });
  const cards = createTickerCards(required('ticker-cards'), store, {
    colorOf,
    windowStart: () => {
      const view = chart.view();
      return view.window && view.following ? view.window.min : chart.liveWindow().min;
    },
    onRemove: (ticker) => void editor.remove(ticker),
  });
  const editor = createWatchlistEditor(required('watchlist-editor'), {
    api,
    session,
    onChanged: () => watchlist.reload(),
    onEditingChange: (editing) => cards.setEditing(editing),
    onBusy: (ticker, busy) => cards.setBusy(ticker, busy),
  });
  const alerts = createAlertPanel(required('alert-panel'), {
    url: '/graphql',
    onMarkers: (markers) => chart.setAlerts(markers),
    onLive: () => late?.refreshRules(),
  });
  const history = createPageHistory({
    api,
    store,
    chart,
    apply: (change) => apply(change),
    width: chartHistoryWidth,
  });
  const lastUpdate = createLastUpdate(required<HTMLTimeElement>('last-update'), () => chart.view().timeZone);

  const load = createInitialLoad({
    fetch(attempt) {
      // The entry's requests, unless the range was changed since (or they failed: a retry asks anew).
      const early = attempt === 0 && firstLoad?.range === controls.range() ? firstLoad : undefined;
      const from = early?.from ?? new Date(rangeStart());
      // Asked for at once, but not waited for: the first draw does not need them (never rejects).
      permissions = editor.refreshPermissions();
      const data = Promise.all([
        early?.watchlist ?? api.watchlist(),
        early?.history ?? api.priceHistory({ from, width: chartHistoryWidth() }),
      ]).then(([watchlist, answer]) => ({ watchlist, answer, from }));
      return { beforeFeed: early !== undefined, data };
    },
    merge({ watchlist, answer, from }) {
      performance.mark('stockstreamer:data');
      useWatchlist(watchlist);
      store.mergeHistory(answer.series);
      history.mergeBars(store.tickers(), answer.bars, from.getTime(), Number.POSITIVE_INFINITY);
      performance.mark('stockstreamer:merged');
    },
    draw() {
      chart.update({ ...emptyChange(), structural: true });
      cards.refresh();
      const newest = Math.max(
        ...store.tickers().map((ticker) => store.latest(ticker)?.[0] ?? Number.NEGATIVE_INFINITY),
      );
      if (Number.isFinite(newest)) lastUpdate.show(newest);
      startProviderLine();
      void loadAlerts();
      buildLatePanels();
    },
    async backfill() {
      const windowStart = rangeStart();
      const resume = store.resumeFrom();
      const from = resume === null ? windowStart : Math.max(windowStart, resume - BACKFILL_OVERLAP_MS);
      try {
        await history.load(store.tickers(), from);
      } catch (error) {
        console.warn('stockstreamer: backfill after reconnect failed:', error);
      }
    },
    onRetry(error, delayMs) {
      console.warn('stockstreamer: loading prices failed:', error);
      chart.setMessage(`Can't load prices — retrying in ${Math.ceil(delayMs / 1000)} s`);
    },
    retryDelayMs: (attempt) => retryDelayMs(attempt),
    timers,
  });

  const watchlist = createWatchlistSync({
    fetch: () => api.watchlist(),
    use: (stocks) => useWatchlist(stocks),
    loadHistory: (tickers) => history.load(tickers, rangeStart()),
    loaded: () => load.loaded(),
    onError: warnWatchlist,
    timers,
  });

  const detail = createDetailLoader({
    load: (window, signal) =>
      history.load(
        store.tickers().filter((ticker) => !chart.isHidden(ticker)),
        window.min,
        window.max,
        signal,
      ),
    onError: (error) => console.warn('stockstreamer: loading the zoomed window failed:', error),
    timers,
  });

  const controls = wireViewControls({
    chart,
    store,
    cards,
    history,
    apply: (change) => apply(change),
    loaded: () => load.loaded(),
    late: () => late,
    loadAlerts: () => void loadAlerts(),
    onTimeZone: (choice) => {
      alerts.setTimeZone(timeZoneOf(choice));
      lastUpdate.redraw();
    },
    timers,
  });

  installPageTestHook(window, chart, store, () => late?.candles.view);

  /** The log of firings over the picked range (markers and list); quiet on failure, the feed goes on. */
  async function loadAlerts(): Promise<void> {
    try {
      const now = timers.now();
      const from = new Date(historyFrom(controls.range(), now));
      alerts.add(await api.alertFirings(from, new Date(now + 60_000)), false);
    } catch (error) {
      console.warn('stockstreamer: loading alerts failed:', error);
    }
  }

  function toggle(ticker: string): void {
    const hidden = !chart.isHidden(ticker);
    chart.setHidden(ticker, hidden);
    legend.setHidden(ticker, hidden);
    cards.setHidden(ticker, hidden);
  }

  function apply(change: SeriesChange): void {
    if (change.unknown.size > 0) watchlist.unknownTicker();
    if (!load.loaded()) return; // the first full draw, after history, picks it all up
    chart.update(change);
    cards.refresh(change.rewritten.size > 0 || change.structural ? undefined : change.appended.keys());
  }

  /** Watchlist into store, chart, legend and cards. Returns the enabled tickers that are new to the page. */
  function useWatchlist(watchlist: readonly Stock[]): string[] {
    const enabled = watchlist.filter((stock) => stock.enabled);
    const added = enabled.map((s) => s.ticker).filter((ticker) => !store.has(ticker));
    const stocks = new Map(enabled.map((stock) => [stock.ticker, stock]));
    chartStocks = watchedStocks(watchlist);
    colors = new Map(chartStocks.map((stock) => [stock.ticker, stock.color]));
    const change = store.setTickers(enabled.map((stock) => stock.ticker));
    chart.setStocks(chartStocks);
    late?.candles.view.setStocks(chartStocks);
    legend.render(chartStocks.map((s) => ({ ...s, logoUrl: stocks.get(s.ticker)?.logoUrl ?? null })));
    for (const stock of enabled) legend.setHidden(stock.ticker, chart.isHidden(stock.ticker));
    cards.render(enabled);
    for (const stock of enabled) cards.setHidden(stock.ticker, chart.isHidden(stock.ticker));
    apply(change);
    if (enabled.length === 0) chart.setMessage('The watchlist is empty');
    return added;
  }

  function startProviderLine(): void {
    watchProvider({
      status: () => api.providerStatus(),
      show(line) {
        providerEl.dataset.circuit = line.circuit;
        providerEl.dataset.market = line.market;
        providerEl.textContent = line.text;
      },
      showHistory(state) {
        providerEl.dataset.history = state;
      },
      onSessionChange: () => void watchlist.reload().catch(warnWatchlist),
      reloadHistory: () => history.load(store.tickers(), rangeStart()),
      onError: (error) => console.warn('stockstreamer: provider status failed:', error),
      timers,
    });
  }

  /** The rules editor, the alert panel and candles, once the lines are drawn (or nothing is to be drawn). */
  function buildLatePanels(): void {
    afterFirstDataDraw(
      {
        drawn: () => store.tickers().length === 0 || firstDataDrawMarked(performance),
        nextFrame: (callback) => requestAnimationFrame(callback),
        timers,
      },
      () => {
        import('./late-panels.ts')
          .then(({ createLatePanels }) => {
            late = createLatePanels({
              api,
              chart,
              editor,
              permissions,
              range: () => controls.range(),
              timeZone: () => controls.timeZone(),
              stocks: () => chartStocks,
              setMode: (mode) => controls.setMode(mode),
              syncLiveButton: (candlesUp) => controls.syncLiveButton(candlesUp),
            });
          })
          .catch((error) =>
            console.error('stockstreamer: the alert rules and candles failed to start:', error),
          );
      },
    );
  }

  // ---- live ticks ---------------------------------------------------------------------------------------

  const feed = startTickFeed({
    url: '/graphql',
    onTicks(ticks) {
      apply(store.mergeTicks(ticks));
      late?.candles.view.onTicks(ticks);
      const newest = Math.max(...ticks.map((tick) => Date.parse(tick.time)).filter(Number.isFinite));
      if (Number.isFinite(newest)) lastUpdate.show(newest);
      feedStatus.tickArrived();
      for (const tick of ticks) cards.setProblem(tick.ticker, undefined);
    },
    onStatus: (status) => feedStatus.setConnection(status),
    onConnected(resumed) {
      load.connected(resumed);
      if (resumed) {
        late?.reloadCandles();
        // Firings while the page was away were not pushed to it.
        void loadAlerts();
      }
    },
  });

  // Come back quickly rather than at the end of a long backoff.
  window.addEventListener('online', () => feed.retryNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') feed.retryNow();
  });
  startSeriesUpkeep({
    prune: () => apply(store.pruneBefore(rangeStart())),
    fold: () =>
      apply(store.reduceEach((points) => foldBefore(points, timers.now() - FULL_DETAIL_MS, MINUTE_MS))),
    following: () => chart.view().following,
    timers,
  });

  void load.start();
}
