import { describe, expect, it } from 'vitest';
import {
  applyTick,
  CANDLE_INTERVAL_MS,
  type CandleIntervalName,
  type CandleRun,
  candleIntervalFor,
  candleRunFromAnswer,
  candleStart,
} from './candle-run.ts';

const T0 = Date.UTC(2026, 10, 30, 14, 0, 0);
const MIN = 60_000;

/** A five-minute run of two candles: 14:00 (O 10 H 12 L 9 C 11) and 14:05 (O 11 H 11.5 L 10.5 C 11). */
function run(interval: CandleIntervalName = 'M5'): CandleRun {
  return candleRunFromAnswer({
    ticker: 'AAPL',
    interval,
    times: [T0, T0 + 5 * MIN],
    open: [10, 11],
    high: [12, 11.5],
    low: [9, 10.5],
    close: [11, 11],
    volume: [500, null],
  });
}

/** The candles as rows, `[start, open, high, low, close, volume]`, to compare whole. */
function rows(r: CandleRun) {
  return r.times.map((t, i) => [t, r.open[i], r.high[i], r.low[i], r.close[i], r.volume[i]]);
}

describe('candleStart', () => {
  it.each([
    ['M1', T0 + 59_999, T0],
    ['M5', T0 + 7 * MIN, T0 + 5 * MIN],
    ['M15', T0 + 14 * MIN, T0],
    ['H1', T0 + 59 * MIN, T0],
    // 2000-01-01 (the server's date_bin origin) is a whole number of UTC days after the epoch
    ['D1', T0, Date.UTC(2026, 10, 30)],
    ['D1', Date.UTC(2000, 0, 1, 23, 59), Date.UTC(2000, 0, 1)],
  ] as const)('%s puts %d in the candle starting at %d', (interval, time, start) => {
    expect(candleStart(time, CANDLE_INTERVAL_MS[interval])).toBe(start);
  });
});

describe('applyTick', () => {
  const base = run();
  it.each([
    {
      name: 'a tick inside the last candle moves its close',
      time: T0 + 6 * MIN,
      price: 11.2,
      last: [T0 + 5 * MIN, 11, 11.5, 10.5, 11.2, null],
    },
    {
      name: 'a tick above the last candle’s high is its new high and close',
      time: T0 + 6 * MIN,
      price: 13,
      last: [T0 + 5 * MIN, 11, 13, 10.5, 13, null],
    },
    {
      name: 'a tick below its low is its new low and close',
      time: T0 + 9 * MIN + 59_000,
      price: 8,
      last: [T0 + 5 * MIN, 11, 11.5, 8, 8, null],
    },
  ])('$name', ({ time, price, last }) => {
    const next = applyTick(base, time, price);
    expect(rows(next)).toEqual([[T0, 10, 12, 9, 11, 500], last]);
    expect(next.lastTime).toBe(time);
  });

  it('a tick past the last candle opens the next one on the grid, its volume unknown', () => {
    const next = applyTick(base, T0 + 12 * MIN + 30_000, 11.7);
    expect(rows(next)).toEqual([
      [T0, 10, 12, 9, 11, 500],
      [T0 + 5 * MIN, 11, 11.5, 10.5, 11, null],
      [T0 + 10 * MIN, 11.7, 11.7, 11.7, 11.7, null],
    ]);
  });

  it('grows a candle tick by tick: open stays, high and low widen, close follows', () => {
    let r = run('M1');
    r = {
      ...r,
      times: [],
      open: [],
      high: [],
      low: [],
      close: [],
      volume: [],
      lastTime: Number.NEGATIVE_INFINITY,
    };
    for (const [s, price] of [
      [0, 100],
      [5, 101],
      [10, 99.5],
      [15, 100.2],
    ] as const) {
      r = applyTick(r, T0 + s * 1000, price);
    }
    expect(rows(r)).toEqual([[T0, 100, 101, 99.5, 100.2, null]]);
  });

  it('a late tick moves its candle’s high or low but not the close, which a newer price set', () => {
    const newer = applyTick(base, T0 + 8 * MIN, 11.1);
    const late = applyTick(newer, T0 + 6 * MIN, 11.9);
    expect(rows(late)[1]).toEqual([T0 + 5 * MIN, 11, 11.9, 10.5, 11.1, null]);
    // and one in an earlier candle widens that candle only
    const earlier = applyTick(newer, T0 + MIN, 8.5);
    expect(rows(earlier)[0]).toEqual([T0, 10, 12, 8.5, 11, 500]);
    expect(rows(earlier)[1]).toEqual(rows(newer)[1]);
  });

  it('a late tick in a gap gets a candle of its own, in order', () => {
    const gap = candleRunFromAnswer({ ...base, times: [T0, T0 + 15 * MIN] });
    const filled = applyTick(gap, T0 + 7 * MIN, 10);
    expect(filled.times).toEqual([T0, T0 + 5 * MIN, T0 + 15 * MIN]);
    expect(filled.close).toEqual([11, 10, 11]);
  });

  it('the same tick twice, or one that changes nothing, returns the run unchanged', () => {
    const once = applyTick(base, T0 + 6 * MIN, 11.3);
    expect(applyTick(once, T0 + 6 * MIN, 11.3)).toBe(once);
    expect(applyTick(base, T0 + 6 * MIN, Number.NaN)).toBe(base);
    // within the range and equal to the close: only the newest time moves
    const same = applyTick(base, T0 + 7 * MIN, 11);
    expect(rows(same)).toEqual(rows(base));
    expect(same.lastTime).toBe(T0 + 7 * MIN);
  });

  it('never changes the run it was given', () => {
    const before = rows(base);
    applyTick(base, T0 + 6 * MIN, 20);
    applyTick(base, T0 + 30 * MIN, 20);
    expect(rows(base)).toEqual(before);
  });
});

describe('candleIntervalFor', () => {
  it.each([
    ['1h', 'M1'],
    ['1d', 'M5'],
    ['7d', 'H1'],
    ['30d', 'H1'],
    ['all', 'D1'],
  ] as const)('%s asks for %s candles', (range, interval) => {
    expect(candleIntervalFor(range)).toBe(interval);
  });
});
