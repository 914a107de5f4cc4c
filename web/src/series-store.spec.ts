import { describe, expect, it } from 'vitest';
import {
  combineChanges,
  createSeriesStore,
  emptyChange,
  isEmptyChange,
  normalizePoints,
  type Point,
  planMerge,
  pointsFromColumns,
} from './series-store.ts';

const T = Date.UTC(2026, 10, 30, 14, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

describe('normalizePoints', () => {
  it.each<{ name: string; input: Point[]; expected: Point[] }>([
    { name: 'empty', input: [], expected: [] },
    {
      name: 'sorts by time',
      input: [
        [3, 30],
        [1, 10],
        [2, 20],
      ],
      expected: [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    },
    {
      name: 'keeps the last of equal times',
      input: [
        [1, 10],
        [1, 11],
      ],
      expected: [[1, 11]],
    },
    {
      name: 'rounds microseconds to the millisecond, so ISO and float times meet',
      input: [
        [1000.4, 1],
        [999.6, 2],
      ],
      expected: [[1000, 2]],
    },
    {
      name: 'drops non-finite values',
      input: [
        [Number.NaN, 1],
        [1, Number.NaN],
        [2, 2],
      ],
      expected: [[2, 2]],
    },
  ])('$name', ({ input, expected }) => {
    expect(normalizePoints(input)).toEqual(expected);
  });
});

describe('planMerge', () => {
  const existing: Point[] = [
    [10, 1],
    [20, 2],
    [30, 3],
  ];

  it.each<{ name: string; incoming: Point[]; expected: ReturnType<typeof planMerge> }>([
    { name: 'nothing new', incoming: [], expected: { kind: 'none' } },
    { name: 'exact repeats are ignored', incoming: [[20, 2]], expected: { kind: 'none' } },
    {
      name: 'later points append',
      incoming: [
        [50, 5],
        [40, 4],
      ],
      expected: {
        kind: 'append',
        points: [
          [40, 4],
          [50, 5],
        ],
      },
    },
    {
      name: 'a backfill overlapping the end still appends',
      incoming: [
        [30, 3],
        [40, 4],
      ],
      expected: { kind: 'append', points: [[40, 4]] },
    },
    {
      name: 'a point between existing ones rewrites',
      incoming: [[15, 1.5]],
      expected: {
        kind: 'rewrite',
        points: [
          [10, 1],
          [15, 1.5],
          [20, 2],
          [30, 3],
        ],
      },
    },
    {
      name: 'a corrected price at a known time replaces it',
      incoming: [
        [20, 2.5],
        [40, 4],
      ],
      expected: {
        kind: 'rewrite',
        points: [
          [10, 1],
          [20, 2.5],
          [30, 3],
          [40, 4],
        ],
      },
    },
    {
      name: 'history older than everything rewrites',
      incoming: [[5, 0.5]],
      expected: {
        kind: 'rewrite',
        points: [
          [5, 0.5],
          [10, 1],
          [20, 2],
          [30, 3],
        ],
      },
    },
  ])('$name', ({ incoming, expected }) => {
    expect(planMerge(existing, incoming)).toEqual(expected);
  });

  it('appends everything to an empty series', () => {
    expect(planMerge([], [[1, 1]])).toEqual({ kind: 'append', points: [[1, 1]] });
  });
});

describe('pointsFromColumns', () => {
  it.each<{ times: number[]; prices: number[]; expected: Point[] }>([
    { times: [], prices: [], expected: [] },
    {
      times: [1, 2],
      prices: [10, 20],
      expected: [
        [1, 10],
        [2, 20],
      ],
    },
    { times: [1, 2], prices: [10], expected: [[1, 10]] },
  ])('zips $times with $prices', ({ times, prices, expected }) => {
    expect(pointsFromColumns(times, prices)).toEqual(expected);
  });
});

describe('combineChanges', () => {
  it('concatenates appends per ticker and lets a rewrite win', () => {
    const a = emptyChange();
    a.appended.set('AAPL', [[1, 1]]);
    a.appended.set('GE', [[1, 5]]);
    const b = emptyChange();
    b.appended.set('AAPL', [[2, 2]]);
    b.rewritten.add('GE');
    b.unknown.add('TSLA');

    const combined = combineChanges(a, b);
    expect(combined.appended.get('AAPL')).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(combined.appended.has('GE')).toBe(false);
    expect([...combined.rewritten]).toEqual(['GE']);
    expect([...combined.unknown]).toEqual(['TSLA']);
    expect(isEmptyChange(combined)).toBe(false);
    expect(isEmptyChange(emptyChange())).toBe(true);
  });
});

describe('createSeriesStore', () => {
  function storeWith(...tickers: string[]) {
    const store = createSeriesStore();
    store.setTickers(tickers);
    return store;
  }

  it('keeps watchlist order and reports a structural change only when it changes', () => {
    const store = createSeriesStore();
    expect(store.setTickers(['GE', 'AAPL']).structural).toBe(true);
    expect(store.tickers()).toEqual(['GE', 'AAPL']);
    expect(store.setTickers(['GE', 'AAPL']).structural).toBe(false);
    expect(store.setTickers(['AAPL', 'GE']).structural).toBe(true);
  });

  it('stores a tick seen both live and in a backfill once', () => {
    const store = storeWith('AAPL');
    const live = store.mergeTicks([{ ticker: 'AAPL', price: 190, time: iso(T) }]);
    expect(live.appended.get('AAPL')).toEqual([[T, 190]]);

    const backfill = store.mergeHistory([{ ticker: 'AAPL', times: [T, T + 5000], prices: [190, 191] }]);
    expect(backfill.rewritten.size).toBe(0);
    expect(backfill.appended.get('AAPL')).toEqual([[T + 5000, 191]]);
    expect(store.pointCount('AAPL')).toBe(2);
  });

  it('merges history that arrives after early live ticks as a rewrite, ascending', () => {
    const store = storeWith('GE');
    store.mergeTicks([{ ticker: 'GE', price: 150, time: iso(T) }]);
    const change = store.mergeHistory([{ ticker: 'GE', times: [T - 10_000, T - 5000], prices: [148, 149] }]);
    expect([...change.rewritten]).toEqual(['GE']);
    expect(store.points('GE')).toEqual([
      [T - 10_000, 148],
      [T - 5000, 149],
      [T, 150],
    ]);
    expect(store.first('GE')).toEqual([T - 10_000, 148]);
    expect(store.latest('GE')).toEqual([T, 150]);
  });

  it('ignores ticks for tickers it does not watch, and names them', () => {
    const store = storeWith('GE');
    const change = store.mergeTicks([
      { ticker: 'TSLA', price: 1, time: iso(T) },
      { ticker: 'GE', price: 2, time: iso(T) },
    ]);
    expect([...change.unknown]).toEqual(['TSLA']);
    expect(store.pointCount('TSLA')).toBe(0);
    expect(store.pointCount('GE')).toBe(1);
  });

  it('prunes points before a time and reports those tickers as rewritten', () => {
    const store = storeWith('GE', 'AAPL');
    store.mergeHistory([
      { ticker: 'GE', times: [1, 2, 3], prices: [1, 2, 3] },
      { ticker: 'AAPL', times: [5], prices: [5] },
    ]);
    const change = store.pruneBefore(3);
    expect([...change.rewritten]).toEqual(['GE']);
    expect(store.points('GE')).toEqual([[3, 3]]);
    expect(store.pointCount('AAPL')).toBe(1);
  });

  it.each<{ name: string; history: { ticker: string; times: number[] }[]; expected: number | null }>([
    { name: 'no data', history: [], expected: null },
    { name: 'one ticker', history: [{ ticker: 'GE', times: [1, 9] }], expected: 9 },
    {
      name: 'the oldest last point, so the stalest ticker misses nothing',
      history: [
        { ticker: 'GE', times: [1, 9] },
        { ticker: 'AAPL', times: [4] },
      ],
      expected: 4,
    },
  ])('resumeFrom with $name', ({ history, expected }) => {
    const store = storeWith('GE', 'AAPL');
    store.mergeHistory(history.map(({ ticker, times }) => ({ ticker, times, prices: times })));
    expect(store.resumeFrom()).toBe(expected);
  });

  it('drops a ticker taken off the watchlist, with its points', () => {
    const store = storeWith('GE', 'AAPL');
    store.mergeHistory([{ ticker: 'GE', times: [1], prices: [1] }]);
    store.setTickers(['AAPL']);
    expect(store.has('GE')).toBe(false);
    expect(store.pointCount('GE')).toBe(0);
  });
});
