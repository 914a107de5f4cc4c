/**
 * The page's composition root: builds the store, the views and the connections, and wires them.
 *
 * Not missing a tick: the first history was asked for by the entry (boot.ts), before the live subscription
 * could open, so once the subscription is open the page fetches history again from its last point on
 * (a backfill, as after a reconnect); merging is idempotent, so whatever arrived in between is neither
 * lost nor doubled. After a reconnect, the ticks missed while away are fetched the same way. Zooming in fetches that window's history at the
 * chart's width, so a zoomed line is as exact as the full view.
 */

import { createAlertPanel } from './alert-panel.ts';
import { createAlertRulesEditor } from './alert-rules-editor.ts';
import { createCandleChart } from './candle-chart.ts';
import { createCandleView } from './candle-view.ts';
import { createChartLegend } from './chart-legend.ts';
import { csvExportHref } from './export-links.ts';
import { createFeedStatus } from './feed-status.ts';
import { chartWidth, type FirstLoad, historyWidth, pickedRange } from './first-load.ts';
import { describeClosedMarket, formatClock } from './format.ts';
import { createGraphqlApi, type ProviderStatus } from './graphql-api.ts';
import { assignSeriesColors, seriesColor } from './palette.ts';
import { type ChartStock, createPriceChart } from './price-chart.ts';
import { type BarRun, mergeBarWindow, pruneBarsBefore } from './provider-bars.ts';
import { DEFAULT_RANGE, historyFrom, isRangeKey, type RangeKey, rangeChoice } from './ranges.ts';
import { retryDelayMs } from './reconnect-policy.ts';
import { foldBefore } from './series-math.ts';
import { createSeriesStore, emptyChange, type SeriesChange } from './series-store.ts';
import { installTestHook } from './test-hook.ts';
import { startTickFeed } from './tick-feed.ts';
import { createTickerCards } from './ticker-cards.ts';
import {
  loadTimeZoneChoice,
  saveTimeZoneChoice,
  type TimeZoneChoice,
  timeZoneOf,
  viewerTimeZone,
} from './time-zone.ts';
import type { BarSeries, Stock } from './types.ts';
import type { ChartMode } from './value-scale.ts';
import { createAdminSession, createWatchlistEditor } from './watchlist-editor.ts';

/** A backfill re-reads this much before the last point it has, in case the last fetch was partial. */
const BACKFILL_OVERLAP_MS = 60 * 1000;
/** How often the page asks whether prices are arriving (the server's freshness view). */
const FEED_STATUS_EVERY_MS = 5000;
/** How often the page forgets points that slid out of the window. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const MINUTE_MS = 60_000;
/** How far back live ticks are kept as they came; older ones fold into minute columns. */
const FULL_DETAIL_MS = 60 * MINUTE_MS;
const FOLD_EVERY_MS = 5 * MINUTE_MS;
/** At most one watchlist reload per this long, however many unknown tickers come in. */
const WATCHLIST_RELOAD_MS = 30 * 1000;
/** How often the provider line under the title is asked again. */
const PROVIDER_STATUS_EVERY_MS = 30 * 1000;
const HISTORY_FILL_EVERY_MS = 1000;

/** `8.3 s`, `66 s`, `2.3 h`: a plan's cadence as the provider line says it. */
function formatEvery(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1).replace(/\.0$/, '')} min`;
  return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')} h`;
}
/** After a ticker is added, look for its name, logo and 52-week range this often, this many times. */
const DETAILS_RELOAD_MS = 2000;
const DETAILS_RELOADS = 10;
/** Wait this long after a zoom or pan settles before fetching its detail (a wheel zoom is many steps). */
const DETAIL_DELAY_MS = 250;

function required<T extends HTMLElement = HTMLElement>(testid: string): T {
  const el = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`index.html lost its [data-testid="${testid}"] element`);
  return el;
}

/** Builds the page; `firstLoad` holds the requests the entry (boot.ts) already sent for the first draw. */
export function startPage(firstLoad?: FirstLoad): void {
  performance.mark('stockstreamer:start');
  const statusEl = required('connection-status');
  const updatedEl = required<HTMLTimeElement>('last-update');
  const taglineEl = required('tagline');
  const providerEl = required('provider-status');
  const chartTitleEl = required('chart-title');
  const liveButton = required<HTMLButtonElement>('back-to-live');
  const rangePicker = required<HTMLFieldSetElement>('range-picker');
  const modePicker = required<HTMLFieldSetElement>('mode-picker');
  const chartEl = required('price-chart');
  const bandsToggle = required<HTMLInputElement>('bands-toggle');
  const logToggle = required<HTMLInputElement>('log-toggle');
  const zonePicker = required<HTMLSelectElement>('time-zone');
  const bandsNote = required('bands-note');
  const exportMenu = required<HTMLDetailsElement>('export-menu');
  const exportCsv = required<HTMLAnchorElement>('export-csv');
  const exportPng = required<HTMLButtonElement>('export-png');
  const stylePicker = required<HTMLFieldSetElement>('style-picker');
  const candleHead = required('candle-head');
  const candlePanes = required('candle-chart');
  const volumeNote = required('volume-note');
  const legendEl = required('chart-legend');

  const store = createSeriesStore();
  const session = createAdminSession(safeSessionStorage());
  const api = createGraphqlApi({ url: '/graphql', adminToken: () => session.token() });
  const feedStatus = createFeedStatus({
    pill: statusEl,
    problem: required('feed-problem'),
    poll: (signal) => api.status(signal),
    everyMs: FEED_STATUS_EVERY_MS,
    onTicker: (ticker, problem) => cards.setProblem(ticker, problem),
  });
  /** Enabled tickers by ticker, in watchlist order. */
  let stocks = new Map<string, Stock>();
  let colors = new Map<string, string>();
  // the browser may restore a previous choice of the radios on a reload: start from what they show
  let range: RangeKey = pickedRange(rangePicker);
  let loaded = false;
  /** Ends the first load's wait between attempts early. */
  let retryLoadNow: (() => void) | undefined;
  /** A reconnect happened while the first load was in flight: backfill once it is done. */
  let backfillAfterLoad = false;
  /** The first history was asked for before the subscription was open: backfill once it is. */
  let historyBeforeFeed = false;

  const colorOf = (ticker: string) => colors.get(ticker) ?? seriesColor(0);
  /** Provider bars per ticker, apart from the store's observed ticks (provider-bars.ts). */
  let barRuns = new Map<string, BarRun>();

  /** Puts a `barHistory` answer for `tickers` over [from, to] in place of what the page held there. */
  function mergeBars(
    tickers: readonly string[],
    answer: readonly BarSeries[],
    from: number,
    to: number,
  ): void {
    const next = new Map(barRuns);
    for (const ticker of tickers) {
      const run = mergeBarWindow(
        next.get(ticker),
        answer.find((bars) => bars.ticker === ticker),
        from,
        to,
      );
      if (run.times.length > 0) next.set(ticker, run);
      else next.delete(ticker);
    }
    barRuns = next;
    chart.setBars(barRuns);
  }

  const chart = createPriceChart(chartEl, store, {
    onViewChange(view, detailWanted) {
      liveButton.hidden = view.following;
      if (detailWanted && !view.following && view.window) scheduleDetail(view.window);
    },
  });
  const legend = createChartLegend(legendEl, { onToggle: (ticker) => toggle(ticker) });
  const candleChart = createCandleChart(required('candle-price'), required('candle-volume'), {
    // Said only where candles are drawn without volume: why the pane is not there.
    onVolume: (drawn, volume) => {
      volumeNote.hidden = !drawn || volume;
    },
  });
  const candles = createCandleView({
    api,
    chart: candleChart,
    select: required<HTMLSelectElement>('candle-ticker'),
    intervalEl: required('candle-interval'),
    range: () => range,
    window: () => chart.liveWindow(),
    width: () => chartWidth(candlePanes.hidden ? chartEl : candlePanes),
    storage: safeSessionStorage(),
  });
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
    onChanged: () => reloadWatchlist(),
    onEditingChange: (editing) => cards.setEditing(editing),
    onBusy: (ticker, busy) => cards.setBusy(ticker, busy),
  });

  const rulesEditor = createAlertRulesEditor(required('alert-rules-editor'), api);
  const alerts = createAlertPanel(required('alert-panel'), {
    url: '/graphql',
    onMarkers: (markers) => chart.setAlerts(markers),
    onLive: () => void rulesEditor.refresh(),
  });

  /** The log of firings over the picked range (markers and list); quiet on failure, the feed goes on. */
  async function loadAlerts(): Promise<void> {
    try {
      const now = Date.now();
      alerts.add(await api.alertFirings(new Date(historyFrom(range, now)), new Date(now + 60_000)), false);
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

  installTestHook(window, {
    seriesCount: () => chart.snapshot().series.length,
    pointCount: (ticker) => store.pointCount(ticker),
    pointTimes: (ticker, from, to) =>
      store
        .points(ticker)
        .filter(([time]) => time >= from && time <= to)
        .map(([time]) => time),
    drawnTickers: () => chart.snapshot().series.map((s) => s.ticker),
    lines: () => chart.lines(),
    lastDrawnPoint: (ticker) => {
      const drawn = chart.snapshot().series.find((s) => s.ticker === ticker);
      const last = drawn?.points[drawn.points.length - 1];
      return last ? [last[0], last[1]] : null;
    },
    markers: (ticker) =>
      (chart.snapshot().series.find((s) => s.ticker === ticker)?.markers ?? []).map(
        ([time, price]) => [time, price] as [number, number],
      ),
    barPoints: (ticker) =>
      (chart.snapshot().bars.find((b) => b.ticker === ticker)?.points ?? []).flatMap(([time, close]) =>
        close === null ? [] : [[time, close] as [number, number]],
      ),
    alertMarkers: (ticker) =>
      (chart.snapshot().series.find((s) => s.ticker === ticker)?.alerts ?? []).map(
        ([time, price]) => [time, price] as [number, number],
      ),
    bands: () =>
      chart
        .snapshot()
        .series.flatMap((s) => (s.band ? [{ ticker: s.ticker, low: s.band.low, high: s.band.high }] : [])),
    isHidden: (ticker) => chart.isHidden(ticker),
    view: () => chart.view(),
    plotArea: () => chart.snapshot().plot,
    yRange: () => chart.snapshot().yRange,
    chartStyle: () => (candles.active() ? 'candles' : 'line'),
    candles: () => candles.snapshot(),
    timings: () => {
      const snapshot = chart.snapshot();
      return {
        firstDataDrawMs: snapshot.firstDataDrawAt,
        lastDrawMs: snapshot.lastDrawMs,
        draws: snapshot.draws,
      };
    },
  });

  function apply(change: SeriesChange): void {
    if (change.unknown.size > 0) scheduleWatchlistReload();
    if (!loaded) return; // the first full draw, after history, picks it all up
    chart.update(change);
    cards.refresh(change.rewritten.size > 0 || change.structural ? undefined : change.appended.keys());
  }

  let lastUpdate: number | null = null;
  function showLastUpdate(ms: number): void {
    lastUpdate = ms;
    const exchange = chart.view().timeZone === 'exchange';
    updatedEl.textContent = `Last tick ${formatClock(ms, timeZoneOf(chart.view().timeZone))}${exchange ? ' ET' : ''}`;
    updatedEl.dateTime = new Date(ms).toISOString();
  }

  /** Watchlist into store, chart, legend and cards. Returns the enabled tickers that are new to the page. */
  function useWatchlist(watchlist: readonly Stock[]): string[] {
    const enabled = watchlist.filter((stock) => stock.enabled);
    const added = enabled.map((s) => s.ticker).filter((ticker) => !store.has(ticker));
    stocks = new Map(enabled.map((stock) => [stock.ticker, stock]));
    colors = assignSeriesColors(
      watchlist.map((s) => s.ticker),
      enabled.map((s) => s.ticker),
    );
    const change = store.setTickers(enabled.map((stock) => stock.ticker));
    const chartStocks: ChartStock[] = enabled.map((stock) => ({
      ticker: stock.ticker,
      companyName: stock.companyName ?? stock.ticker,
      color: colorOf(stock.ticker),
      low52Week: stock.low52Week,
      high52Week: stock.high52Week,
    }));
    chart.setStocks(chartStocks);
    candles.setStocks(chartStocks);
    legend.render(chartStocks.map((s) => ({ ...s, logoUrl: stocks.get(s.ticker)?.logoUrl ?? null })));
    for (const stock of enabled) legend.setHidden(stock.ticker, chart.isHidden(stock.ticker));
    cards.render(enabled);
    for (const stock of enabled) cards.setHidden(stock.ticker, chart.isHidden(stock.ticker));
    apply(change);
    if (enabled.length === 0) chart.setMessage('The watchlist is empty');
    return added;
  }

  async function loadHistory(
    tickers: readonly string[],
    from: number,
    to?: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (tickers.length === 0) return;
    const history = await api.priceHistory(
      {
        tickers,
        from: new Date(from),
        ...(to !== undefined ? { to: new Date(to) } : {}),
        width: historyWidth(chartEl.clientWidth),
      },
      signal,
    );
    apply(store.mergeHistory(history.series));
    mergeBars(tickers, history.bars, from, to ?? Number.POSITIVE_INFINITY);
  }

  /**
   * The provider line under the title: what its plan buys (so a viewer knows how often a price can come)
   * and, when its circuit is open, that it is not answering. Asked again every half minute.
   */
  async function watchProvider(): Promise<void> {
    // Counted as filling until told otherwise: a fill that ended between the first draw and the first
    // answer here still gets its window drawn again.
    let filling = true;
    /** The session state the cards' previous closes were read in: at an open or a close they change. */
    let session: string | undefined;
    for (;;) {
      try {
        const status = await api.providerStatus();
        providerEl.textContent = describeProvider(status);
        const now = `${status.market?.open}|${status.market?.lastClose}`;
        if (session !== undefined && now !== session) {
          reloadWatchlist().catch((error) =>
            console.warn('stockstreamer: reloading the watchlist failed:', error),
          );
        }
        session = now;
        const nowFilling = status.historyFill?.filling === true;
        // The chart was drawn from what was stored then: once the fill ends, draw the window again, and
        // only then say "filled" (a failed redraw leaves it filling, so the next answer tries again).
        if (filling && !nowFilling) await loadHistory(store.tickers(), historyFrom(range, Date.now()));
        filling = nowFilling;
        providerEl.dataset.history = filling ? 'filling' : 'filled';
      } catch (error) {
        console.warn('stockstreamer: provider status failed:', error);
      }
      // While history is being filled the line counts up, so it is asked for more often.
      await new Promise((resolve) =>
        setTimeout(resolve, filling ? HISTORY_FILL_EVERY_MS : PROVIDER_STATUS_EVERY_MS),
      );
    }
  }

  function describeProvider(status: ProviderStatus): string {
    providerEl.dataset.circuit = status.circuit;
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
    providerEl.dataset.market = market?.followsCalendar && !market.open ? 'closed' : 'open';
    if (market?.followsCalendar && !market.open) {
      return `${status.name} · ${describeClosedMarket(market.lastClose, market.nextOpen)}${history}`;
    }
    if (status.circuit === 'CLOSED') return `${status.name} · ${cadence}${stream}${history}`;
    const next = status.nextProbeAt ? new Date(status.nextProbeAt).toLocaleTimeString() : 'soon';
    return `${status.name} · not answering; ${status.circuit === 'OPEN' ? `next try at ${next}` : 'trying again now'}`;
  }

  /**
   * First load, retried with backoff until the server answers (it may still be starting). The watchlist
   * and the history of every watched ticker are asked for at once (the first time by the entry, boot.ts):
   * one round trip before the first draw. The permissions go out with them but the draw does not wait for
   * them: their answer only shows or hides the editors.
   */
  async function initialLoad(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // The entry's requests, unless the range was changed since (or they failed: a retry asks anew).
        const early = attempt === 0 && firstLoad?.range === range ? firstLoad : undefined;
        if (early) historyBeforeFeed = true;
        const from = early?.from ?? new Date(historyFrom(range, Date.now()));
        // Asked for at once, but not waited for: the first draw does not need them (never rejects).
        const permissions = editor.refreshPermissions();
        const [watchlist, history] = await Promise.all([
          early?.watchlist ?? api.watchlist(),
          early?.history ?? api.priceHistory({ from, width: historyWidth(chartEl.clientWidth) }),
        ]);
        performance.mark('stockstreamer:data');
        useWatchlist(watchlist);
        store.mergeHistory(history.series);
        mergeBars(store.tickers(), history.bars, from.getTime(), Number.POSITIVE_INFINITY);
        performance.mark('stockstreamer:merged');
        loaded = true;
        chart.update({ ...emptyChange(), structural: true });
        if (stylePicked() === 'candles') setStyle('candles');
        cards.refresh();
        const newest = Math.max(
          ...store.tickers().map((ticker) => store.latest(ticker)?.[0] ?? Number.NEGATIVE_INFINITY),
        );
        if (Number.isFinite(newest)) showLastUpdate(newest);
        if (backfillAfterLoad) void backfill();
        void watchProvider();
        void loadAlerts();
        void permissions.then(() => rulesEditor.setAllowed(editor.permissions()?.canEditWatchlist === true));
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
    const windowStart = historyFrom(range, Date.now());
    const resume = store.resumeFrom();
    const from = resume === null ? windowStart : Math.max(windowStart, resume - BACKFILL_OVERLAP_MS);
    try {
      await loadHistory(store.tickers(), from);
    } catch (error) {
      console.warn('stockstreamer: backfill after reconnect failed:', error);
    }
  }

  async function reloadWatchlist(): Promise<void> {
    const watchlist = await api.watchlist();
    const added = useWatchlist(watchlist);
    if (loaded) await loadHistory(added, historyFrom(range, Date.now()));
    // A ticker just added gets its name, logo and 52-week range from a job the server starts for it: look
    // again shortly, until they are there.
    const incomplete = watchlist.some(
      (s) => s.enabled && (!s.companyName || !s.logoUrl || s.high52Week === null),
    );
    if (incomplete) scheduleDetailsReload();
    else detailsReloads = 0;
  }

  let detailsReloads = 0;
  let detailsTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleDetailsReload(): void {
    if (detailsTimer !== undefined || detailsReloads >= DETAILS_RELOADS) return;
    detailsReloads++;
    detailsTimer = setTimeout(() => {
      detailsTimer = undefined;
      reloadWatchlist().catch((error) =>
        console.warn('stockstreamer: reloading the watchlist failed:', error),
      );
    }, DETAILS_RELOAD_MS);
  }

  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let lastReload = 0;
  function scheduleWatchlistReload(): void {
    if (reloadTimer !== undefined || !loaded) return;
    const wait = Math.max(0, lastReload + WATCHLIST_RELOAD_MS - Date.now());
    reloadTimer = setTimeout(async () => {
      lastReload = Date.now();
      try {
        await reloadWatchlist();
      } catch (error) {
        console.warn('stockstreamer: reloading the watchlist failed:', error);
      } finally {
        reloadTimer = undefined;
      }
    }, wait);
  }

  // ---- range, compare mode, back to live ----------------------------------------------------------------

  let rangeLoad: AbortController | undefined;
  async function pickRange(next: RangeKey): Promise<void> {
    range = next;
    const choice = rangeChoice(next);
    taglineEl.textContent = `Live prices · ${choice.description}`;
    chart.setRange(next);
    liveButton.hidden = true;
    cards.refresh();
    if (!loaded) return; // the first load asks for the current range
    candles.reload();
    void loadAlerts();
    rangeLoad?.abort();
    const controller = new AbortController();
    rangeLoad = controller;
    const from = historyFrom(next, Date.now());
    try {
      await loadHistory(store.tickers(), from, undefined, controller.signal);
      if (controller.signal.aborted) return;
      apply(store.pruneBefore(from));
      barRuns = new Map([...barRuns].map(([ticker, run]) => [ticker, pruneBarsBefore(run, from)]));
      chart.setBars(barRuns);
      cards.refresh();
    } catch (error) {
      if (controller.signal.aborted) return;
      console.warn('stockstreamer: loading the range failed:', error);
      // Say so where the range is named, not only in the console: the chart still shows the previous data.
      const reason = error instanceof Error ? error.message : String(error);
      taglineEl.textContent = `Live prices · ${choice.description} · could not load: ${reason}`;
    }
  }

  // The CSV link is written when the menu opens: the lines shown, over the window shown.
  exportMenu.addEventListener('toggle', () => {
    if (!exportMenu.open) return;
    const shown = store.tickers().filter((ticker) => !chart.isHidden(ticker));
    exportCsv.href = csvExportHref(shown, chart.view().window ?? chart.liveWindow());
  });
  exportCsv.addEventListener('click', () => {
    exportMenu.open = false;
  });
  exportPng.addEventListener('click', async () => {
    const link = document.createElement('a');
    link.href = candles.active() ? await candles.pngUrl() : await chart.pngUrl();
    link.download = `stockstreamer-${new Date().toISOString().slice(0, 16).replace(':', '')}.png`;
    link.click();
    exportMenu.open = false;
  });

  rangePicker.addEventListener('change', (event) => {
    const value = (event.target as HTMLInputElement).value;
    if (isRangeKey(value)) void pickRange(value);
  });

  /** The bands' note says what the shading means: only while there is shading. */
  function showBands(on: boolean): void {
    chart.setBands(on);
    bandsNote.hidden = !chart.bandsShown();
    // Compare mode draws no bands: the switch says so rather than looking on and doing nothing.
    bandsToggle.disabled = chart.view().mode !== 'price' || candles.active();
    logToggle.disabled = candles.active();
    if (candles.active()) bandsNote.hidden = true;
  }
  bandsToggle.addEventListener('change', () => showBands(bandsToggle.checked));
  logToggle.addEventListener('change', () => chart.setLogScale(logToggle.checked));

  // ---- whose clock --------------------------------------------------------------------------------------

  const viewerOption = zonePicker.querySelector<HTMLOptionElement>('option[value="viewer"]');
  if (viewerOption) viewerOption.textContent = `yours (${viewerTimeZone().replace(/_/g, ' ')})`;
  function setTimeZone(choice: TimeZoneChoice): void {
    zonePicker.value = choice;
    chart.setTimeZone(choice);
    candleChart.setTimeZone(choice);
    alerts.setTimeZone(timeZoneOf(choice));
    if (lastUpdate !== null) showLastUpdate(lastUpdate);
  }
  zonePicker.addEventListener('change', () => {
    const choice: TimeZoneChoice = zonePicker.value === 'exchange' ? 'exchange' : 'viewer';
    saveTimeZoneChoice(safeLocalStorage(), choice);
    setTimeZone(choice);
  });
  setTimeZone(loadTimeZoneChoice(safeLocalStorage()));

  function setMode(mode: ChartMode): void {
    chart.setMode(mode);
    showBands(bandsToggle.checked);
    chartTitleEl.textContent = candles.active()
      ? 'Candles, US dollars'
      : mode === 'percent'
        ? 'Change since the start of the window, %'
        : 'Price, US dollars';
  }
  modePicker.addEventListener('change', (event) => {
    const value = (event.target as HTMLInputElement).value;
    if (value === 'price' || value === 'percent') setMode(value);
  });

  // ---- lines or candles -----------------------------------------------------------------------------------

  /** What the style radios show: a reload may restore the previous choice, as with the range. */
  function stylePicked(): 'line' | 'candles' {
    return stylePicker.querySelector<HTMLInputElement>('input:checked')?.value === 'candles'
      ? 'candles'
      : 'line';
  }

  /**
   * Candles show one ticker in dollars: the lines, their legend, % Compare, the bands and the zoom's way
   * back to live are the line chart's, so they step aside while candles are up.
   */
  function setStyle(style: 'line' | 'candles'): void {
    const on = style === 'candles';
    if (on && !loaded) return; // the first load turns them on once it knows the watchlist
    candles.setActive(on);
    chartEl.hidden = on;
    legendEl.hidden = on;
    candlePanes.hidden = !on;
    candleHead.hidden = !on;
    modePicker.disabled = on;
    if (on) liveButton.hidden = true;
    else {
      volumeNote.hidden = true;
      liveButton.hidden = chart.view().following;
      chart.update({ ...emptyChange(), structural: true });
    }
    setMode(chart.view().mode);
  }
  stylePicker.addEventListener('change', () => setStyle(stylePicked()));

  liveButton.addEventListener('click', () => {
    chart.backToLive();
    liveButton.hidden = true;
  });

  let detailTimer: ReturnType<typeof setTimeout> | undefined;
  let detailLoad: AbortController | undefined;
  function scheduleDetail(window: { min: number; max: number }): void {
    clearTimeout(detailTimer);
    detailTimer = setTimeout(() => {
      detailLoad?.abort();
      const controller = new AbortController();
      detailLoad = controller;
      const tickers = store.tickers().filter((ticker) => !chart.isHidden(ticker));
      loadHistory(tickers, window.min, window.max, controller.signal).catch((error) => {
        if (!controller.signal.aborted)
          console.warn('stockstreamer: loading the zoomed window failed:', error);
      });
    }, DETAIL_DELAY_MS);
  }

  // ---- live ticks ---------------------------------------------------------------------------------------

  const feed = startTickFeed({
    url: '/graphql',
    onTicks(ticks) {
      apply(store.mergeTicks(ticks));
      candles.onTicks(ticks);
      const newest = Math.max(...ticks.map((tick) => Date.parse(tick.time)).filter(Number.isFinite));
      if (Number.isFinite(newest)) showLastUpdate(newest);
      feedStatus.tickArrived();
      for (const tick of ticks) cards.setProblem(tick.ticker, undefined);
    },
    onStatus: (status) => feedStatus.setConnection(status),
    onConnected(resumed) {
      retryLoadNow?.();
      if (!resumed && historyBeforeFeed) {
        historyBeforeFeed = false;
        void backfill();
      } else if (resumed) {
        void backfill();
        candles.reload();
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
  setInterval(() => apply(store.pruneBefore(historyFrom(range, Date.now()))), PRUNE_EVERY_MS);
  // Live ticks older than an hour fold into minute columns, as the server's history would have sent them:
  // a page left open for a day holds about a third of the points, and the 1H range keeps every tick. Not
  // while the viewer is zoomed in: the detail loaded for the zoom is what they are looking at.
  setInterval(() => {
    if (!chart.view().following) return;
    apply(store.reduceEach((points) => foldBefore(points, Date.now() - FULL_DETAIL_MS, MINUTE_MS)));
  }, FOLD_EVERY_MS);

  // a restored radio state (see `range` above) is applied before the first load
  if (range !== DEFAULT_RANGE) void pickRange(range);
  if (modePicker.querySelector<HTMLInputElement>('input:checked')?.value === 'percent') setMode('percent');
  if (logToggle.checked) chart.setLogScale(true);

  void initialLoad();
}

function safeSessionStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Choices kept across visits (the clock); null where the browser refuses storage. */
function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
