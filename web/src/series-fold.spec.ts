import { describe, expect, it } from 'vitest';
import { foldBefore } from './series-math.ts';
import { createSeriesStore, type Point } from './series-store.ts';
import type { Tick } from './types.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2026, 11, 4, 0, 0, 0);
const TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];

/** A deterministic wobbly price: repeats, small moves and the odd spike, as a live feed sends. */
function priceAt(ticker: string, i: number): number {
  const seed = ticker.charCodeAt(0) * 31 + ticker.length;
  const wave = Math.sin((i + seed) / 37) * 2 + Math.sin((i * 7 + seed) / 11) * 0.4;
  const spike = (i + seed) % 997 === 0 ? 5 : 0;
  return Math.round((100 + seed / 10 + wave + spike) * 100) / 100;
}

// A simulated day of six tickers takes ~3 s alone; on a loaded 2-core machine it ran past vitest's 5 s default.
describe('a page left open for a day, its live ticks folded every 5 minutes', { timeout: 30_000 }, () => {
  // 24 simulated hours of 5-second ticks for six tickers, in a second or so: the page's own timer calls,
  // with the clock moved instead of waited for.
  const store = createSeriesStore();
  store.setTickers(TICKERS);
  const full = new Map<string, Point[]>(TICKERS.map((t) => [t, []]));
  const largest = new Map<string, number>(TICKERS.map((t) => [t, 0]));
  let now = START;
  for (let i = 0; now < START + 24 * HOUR; i++, now += 5000) {
    const ticks: Tick[] = TICKERS.map((ticker) => ({
      ticker,
      price: priceAt(ticker, i),
      time: new Date(now).toISOString(),
    }));
    store.mergeTicks(ticks);
    for (const tick of ticks) full.get(tick.ticker)!.push([now, tick.price]);
    if (now % (5 * MINUTE) === 0) {
      store.reduceEach((points) => foldBefore(points, now - HOUR, MINUTE));
    }
    for (const ticker of TICKERS)
      largest.set(ticker, Math.max(largest.get(ticker)!, store.pointCount(ticker)));
  }

  it('stays bounded: at most 4 points a minute before the last hour, every tick within it', () => {
    for (const ticker of TICKERS) {
      expect(full.get(ticker)!.length).toBe(17_280);
      // 23 folded hours × 60 minutes × 4, plus an hour and five minutes of ticks between two folds
      expect(largest.get(ticker)).toBeLessThanOrEqual(23 * 60 * 4 + 13 * 65);
      expect(store.pointCount(ticker)).toBeLessThan(full.get(ticker)!.length / 2.5);
    }
  });

  it('keeps observed points only, in order, and every minute’s first, lowest, highest and last', () => {
    const cutoff = Math.floor((now - 5000 - HOUR) / (5 * MINUTE)) * 5 * MINUTE;
    for (const ticker of TICKERS) {
      const kept = store.points(ticker);
      const all = full.get(ticker)!;
      const observed = new Map(all.map(([t, p]) => [t, p]));
      for (let i = 0; i < kept.length; i++) {
        expect(observed.get(kept[i]![0])).toBe(kept[i]![1]);
        if (i > 0) expect(kept[i]![0]).toBeGreaterThan(kept[i - 1]![0]);
      }
      const keptTimes = new Set(kept.map(([t]) => t));
      for (let minute = START; minute < cutoff - HOUR; minute += MINUTE) {
        const inMinute = all.filter(([t]) => t >= minute && t < minute + MINUTE);
        const prices = inMinute.map(([, p]) => p);
        const keptPrices = kept.filter(([t]) => t >= minute && t < minute + MINUTE).map(([, p]) => p);
        expect(keptTimes.has(inMinute[0]![0])).toBe(true);
        expect(keptTimes.has(inMinute.at(-1)![0])).toBe(true);
        expect(Math.min(...keptPrices)).toBe(Math.min(...prices));
        expect(Math.max(...keptPrices)).toBe(Math.max(...prices));
      }
      // the last hour is as it came
      const recent = all.filter(([t]) => t >= now - HOUR + 5 * MINUTE);
      expect(kept.slice(-recent.length)).toEqual(recent);
    }
  });
});

describe('foldBefore', () => {
  it('leaves a series with nothing before the cutoff as it is', () => {
    const points: Point[] = [
      [START + HOUR, 1],
      [START + HOUR + 5000, 2],
    ];
    expect(foldBefore(points, START + HOUR, MINUTE)).toEqual(points);
  });

  it('keeps a minute’s first, lowest, highest and last, each once, in time order', () => {
    const points: Point[] = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55].map((s, i) => [
      START + s * 1000,
      [5, 4, 9, 9, 1, 6, 6, 3, 7, 2, 8, 5][i]!,
    ]);
    expect(foldBefore(points, START + MINUTE, MINUTE)).toEqual([
      [START, 5],
      [START + 10_000, 9],
      [START + 20_000, 1],
      [START + 55_000, 5],
    ]);
  });
});
