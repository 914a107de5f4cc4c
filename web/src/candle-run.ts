/**
 * One ticker's candles as the page holds them, and how a live tick grows them. Pure: the spec tables it.
 *
 * The server answers candles on the interval's grid in UTC (`candles`, src/db/candles.ts: `date_bin` from
 * 2000-01-01, a whole number of days after the epoch, so the same grid as flooring epoch milliseconds).
 * Each tick over the subscription then either moves the candle it falls in (high, low, and close when it
 * is the newest price seen) or opens the next one on that grid.
 */
import type { RangeKey } from './ranges.ts';

export type CandleIntervalName = 'M1' | 'M5' | 'M15' | 'H1' | 'D1';

export const CANDLE_INTERVAL_MS: Readonly<Record<CandleIntervalName, number>> = Object.freeze({
  M1: 60_000,
  M5: 5 * 60_000,
  M15: 15 * 60_000,
  H1: 60 * 60_000,
  D1: 24 * 60 * 60_000,
});

/** What the page shows as the candles' length. */
const INTERVAL_LABELS: Readonly<Record<CandleIntervalName, string>> = Object.freeze({
  M1: '1-minute candles',
  M5: '5-minute candles',
  M15: '15-minute candles',
  H1: 'hourly candles',
  D1: 'daily candles (UTC days)',
});

export function candleIntervalLabel(interval: CandleIntervalName): string {
  return INTERVAL_LABELS[interval];
}

/**
 * The interval to ask for when `range` is picked: fine enough to see the range's moves, coarse enough to
 * read each candle. The server makes it coarser still where the chart is too narrow (and says so).
 */
export function candleIntervalFor(range: RangeKey): CandleIntervalName {
  return ({ '1h': 'M1', '1d': 'M5', '7d': 'H1', '30d': 'H1', all: 'D1' } as const)[range];
}

/** One ticker's candles, columnar and ascending by start, as the `candles` query answers them. */
export interface CandleRun {
  ticker: string;
  interval: CandleIntervalName;
  /** Each candle's start, ms since the epoch, on the interval's UTC grid. */
  times: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  /** Shares traded, where the provider's bars said; null elsewhere (observed ticks carry none). */
  volume: (number | null)[];
  /** The newest price time folded in: an older tick arriving late moves high and low, never the close. */
  lastTime: number;
}

/** The start of the candle of `intervalMs` that `time` falls in. */
export function candleStart(time: number, intervalMs: number): number {
  return Math.floor(time / intervalMs) * intervalMs;
}

/**
 * The run as the server answered it. Until a tick arrives, the close of the last candle stands for its
 * newest price: `lastTime` is that candle's start, so any tick inside it moves the close.
 */
export function candleRunFromAnswer(answer: {
  ticker: string;
  interval: CandleIntervalName;
  times: readonly number[];
  open: readonly number[];
  high: readonly number[];
  low: readonly number[];
  close: readonly number[];
  volume: readonly (number | null)[];
}): CandleRun {
  return {
    ticker: answer.ticker,
    interval: answer.interval,
    times: [...answer.times],
    open: [...answer.open],
    high: [...answer.high],
    low: [...answer.low],
    close: [...answer.close],
    volume: answer.times.map((_, i) => answer.volume[i] ?? null),
    lastTime: answer.times[answer.times.length - 1] ?? Number.NEGATIVE_INFINITY,
  };
}

/**
 * `run` with the tick at `time` (ms) and `price` folded in: the candle it falls in takes it as its high or
 * low where it passes them, and as its close when it is the newest price seen; a tick past the last candle
 * opens a new one on the grid (open = high = low = close = price, volume unknown). The same tick twice
 * changes nothing the second time. Returns `run` itself when nothing changed.
 */
export function applyTick(run: CandleRun, time: number, price: number): CandleRun {
  if (!Number.isFinite(time) || !Number.isFinite(price)) return run;
  const start = candleStart(time, CANDLE_INTERVAL_MS[run.interval]);
  // Where the candle is, or would go: nearly always the last one, so search from the end.
  let index = run.times.length - 1;
  while (index >= 0 && run.times[index]! > start) index--;
  const next: CandleRun = {
    ...run,
    times: [...run.times],
    open: [...run.open],
    high: [...run.high],
    low: [...run.low],
    close: [...run.close],
    volume: [...run.volume],
    lastTime: Math.max(run.lastTime, time),
  };
  if (index >= 0 && run.times[index] === start) {
    const newest = time >= run.lastTime;
    if (price <= run.high[index]! && price >= run.low[index]! && (!newest || price === run.close[index]))
      return time > run.lastTime ? { ...run, lastTime: time } : run;
    next.high[index] = Math.max(run.high[index]!, price);
    next.low[index] = Math.min(run.low[index]!, price);
    if (newest) next.close[index] = price;
    return next;
  }
  // A candle of its own, after `index` (at the end for a new interval; inside the run for a late tick
  // that fills a gap).
  const at = index + 1;
  next.times.splice(at, 0, start);
  next.open.splice(at, 0, price);
  next.high.splice(at, 0, price);
  next.low.splice(at, 0, price);
  next.close.splice(at, 0, price);
  next.volume.splice(at, 0, null);
  return next;
}
