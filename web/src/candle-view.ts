/**
 * Candles mode: which ticker, its candles for the picked range from the `candles` query, and the live
 * candle growing with each tick over the subscription (candle-run.ts). Draws through candle-chart.ts;
 * candle-wiring.ts only wires it. Inactive (lines mode), it holds nothing and asks nothing.
 *
 * Ticks that arrive while the candles are being fetched are kept and folded in after the answer, so none
 * is lost between the two; folding one the answer already held changes nothing.
 */
import type { CandleChart, CandleStock, DrawnCandles } from './candle-chart.ts';
import {
  applyTick,
  type CandleRun,
  candleIntervalFor,
  candleIntervalLabel,
  candleRunFromAnswer,
} from './candle-run.ts';
import type { GraphqlApi } from './graphql-api.ts';
import { historyFrom, type RangeKey, type TimeWindow } from './ranges.ts';

/** Each candle gets at least this many px: the server makes the interval coarser where they would not fit. */
const CANDLE_MIN_PX = 5;
const TICKER_KEY = 'stockstreamer.candleTicker';

export interface CandleViewOptions {
  api: Pick<GraphqlApi, 'candles'>;
  chart: CandleChart;
  /** The ticker picker: its options are the watchlist's tickers. */
  select: HTMLSelectElement;
  /** Where the candles' interval is said ("5-minute candles"). */
  intervalEl: HTMLElement;
  range(): RangeKey;
  /** The window to draw: the picked range ending now. */
  window(): TimeWindow;
  /** The chart's width in px. */
  width(): number | undefined;
  /** Remembers the picked ticker for this tab (a reload keeps it); null where storage is refused. */
  storage: Storage | null;
}

export interface CandleView {
  /** Candles mode on (fetches the candles) or off (forgets them). */
  setActive(on: boolean): void;
  active(): boolean;
  /** The watchlist's tickers, in order. */
  setStocks(stocks: readonly CandleStock[]): void;
  /** Fetches the candles again: a new range, a reconnect. */
  reload(): void;
  onTicks(ticks: readonly { ticker: string; price: number; time: string }[]): void;
  /** The ticker drawn, or picked. */
  ticker(): string | null;
  snapshot(): DrawnCandles | null;
  /** The candle chart as a PNG. */
  pngUrl(): Promise<string>;
}

export function createCandleView(options: CandleViewOptions): CandleView {
  const { api, chart, select, intervalEl, storage } = options;
  let on = false;
  let stocks: CandleStock[] = [];
  let picked: string | null = safeGet(storage, TICKER_KEY);
  let run: CandleRun | null = null;
  let load: AbortController | undefined;
  /** Ticks that came while a fetch was out, or null when none is. */
  let arriving: { ticker: string; time: number; price: number }[] | null = null;

  const current = (): string | null =>
    stocks.some((s) => s.ticker === picked) ? picked : (stocks[0]?.ticker ?? null);

  function draw(): void {
    const ticker = current();
    chart.draw(stocks.find((s) => s.ticker === ticker) ?? null, run, options.window());
  }

  async function fetchCandles(): Promise<void> {
    if (!on) return;
    load?.abort();
    const ticker = current();
    run = null;
    if (!ticker) {
      chart.setMessage('The watchlist is empty');
      return;
    }
    const controller = new AbortController();
    load = controller;
    arriving = [];
    const asked = candleIntervalFor(options.range());
    intervalEl.textContent = `${ticker} · loading ${candleIntervalLabel(asked)}…`;
    const width = options.width();
    try {
      const answer = await api.candles(
        {
          tickers: [ticker],
          interval: asked,
          from: new Date(historyFrom(options.range(), Date.now())),
          ...(width !== undefined ? { width: Math.max(10, Math.floor(width / CANDLE_MIN_PX)) } : {}),
        },
        controller.signal,
      );
      if (controller.signal.aborted) return;
      const series = answer.find((s) => s.ticker === ticker);
      let next = candleRunFromAnswer(
        series ?? { ticker, interval: asked, times: [], open: [], high: [], low: [], close: [], volume: [] },
      );
      for (const tick of arriving ?? [])
        if (tick.ticker === ticker) next = applyTick(next, tick.time, tick.price);
      run = next;
      intervalEl.textContent = `${ticker} · ${candleIntervalLabel(next.interval)}`;
      if (next.times.length === 0) chart.setMessage(`No prices for ${ticker} in this range yet`);
      draw();
    } catch (error) {
      if (controller.signal.aborted) return;
      console.warn('stockstreamer: loading candles failed:', error);
      const reason = error instanceof Error ? error.message : String(error);
      intervalEl.textContent = `${ticker} · could not load candles: ${reason}`;
      chart.setMessage("Can't load candles");
    } finally {
      if (load === controller) arriving = null;
    }
  }

  select.addEventListener('change', () => {
    picked = select.value;
    safeSet(storage, TICKER_KEY, picked);
    void fetchCandles();
  });

  return {
    setActive(next) {
      if (on === next) return;
      on = next;
      if (on) void fetchCandles();
      else {
        load?.abort();
        run = null;
        arriving = null;
      }
    },
    active: () => on,
    setStocks(next) {
      const before = current();
      stocks = next.map((s) => ({ ...s }));
      select.replaceChildren(
        ...stocks.map((s) => {
          const option = document.createElement('option');
          option.value = s.ticker;
          option.textContent = s.companyName === s.ticker ? s.ticker : `${s.ticker} · ${s.companyName}`;
          return option;
        }),
      );
      select.value = current() ?? '';
      if (on && current() !== before) void fetchCandles();
      else if (on && run) draw();
    },
    reload: () => void fetchCandles(),
    onTicks(ticks) {
      if (!on) return;
      const ticker = current();
      let changed = false;
      for (const tick of ticks) {
        if (tick.ticker !== ticker) continue;
        const time = Date.parse(tick.time);
        if (arriving) arriving.push({ ticker: tick.ticker, time, price: tick.price });
        if (!run) continue;
        const next = applyTick(run, time, tick.price);
        changed ||= next !== run;
        run = next;
      }
      if (changed) draw();
    },
    ticker: current,
    snapshot: () => chart.snapshot(),
    pngUrl: () => chart.pngUrl(),
  };
}

function safeGet(storage: Storage | null, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function safeSet(storage: Storage | null, key: string, value: string): void {
  try {
    storage?.setItem(key, value);
  } catch {
    // a refused write only means the choice is not remembered
  }
}
