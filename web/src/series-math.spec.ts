import { describe, expect, it } from 'vitest';
import {
  breakAtGaps,
  changeMarkers,
  gapThreshold,
  lowerBound,
  niceScale,
  percentChange,
  priceAt,
  reduceM4,
  upperBound,
  valueExtent,
  visibleRange,
} from './series-math.ts';
import type { Point } from './series-store.ts';

const series: Point[] = [
  [10, 1],
  [20, 2],
  [30, 3],
  [40, 4],
];

describe('lowerBound / upperBound', () => {
  it.each([
    [0, 0, 0],
    [10, 0, 1],
    [15, 1, 1],
    [40, 3, 4],
    [50, 4, 4],
  ])('at %s: lower %s, upper %s', (time, lower, upper) => {
    expect(lowerBound(series, time)).toBe(lower);
    expect(upperBound(series, time)).toBe(upper);
  });

  it('answers 0 for an empty series', () => {
    expect(lowerBound([], 5)).toBe(0);
    expect(upperBound([], 5)).toBe(0);
  });
});

describe('visibleRange', () => {
  it.each<{ name: string; min: number; max: number; expected: [number, number] }>([
    { name: 'keeps one neighbour either side', min: 15, max: 35, expected: [0, 4] },
    { name: 'exact edges take the neighbours too', min: 20, max: 30, expected: [0, 4] },
    { name: 'a window before the data', min: 0, max: 5, expected: [0, 1] },
    { name: 'a window after the data keeps the last point', min: 50, max: 60, expected: [3, 4] },
    { name: 'everything', min: 0, max: 100, expected: [0, 4] },
  ])('$name', ({ min, max, expected }) => {
    expect(visibleRange(series, min, max)).toEqual(expected);
  });
});

describe('reduceM4', () => {
  it('returns small inputs unchanged (within the window and its neighbours)', () => {
    expect(reduceM4(series, 15, 35, 10)).toEqual(series);
  });

  it('keeps the first, last, lowest and highest point of each pixel column', () => {
    // one column holds 10 points: first 5, a dip to 1 at t=3, a peak of 9 at t=6, last 4
    const column: Point[] = [5, 6, 4, 1, 3, 5, 9, 7, 5, 4].map((price, t) => [t, price] as const);
    expect(reduceM4(column, 0, 9.5, 1)).toEqual([
      [0, 5],
      [3, 1],
      [6, 9],
      [9, 4],
    ]);
  });

  it('keeps the first/last/min/max of every column of a long random walk, and no more than 4 a column', () => {
    let price = 100;
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const walk: Point[] = [];
    for (let t = 0; t < 20_000; t++) {
      price += random() - 0.5;
      walk.push([t, Math.round(price * 100) / 100]);
    }
    const columns = 300;
    const reduced = reduceM4(walk, 0, 19_999, columns);
    expect(reduced.length).toBeLessThanOrEqual(columns * 4);
    const columnOf = (t: number) => Math.min(columns - 1, Math.floor((t * columns) / 19_999));
    const stats = (points: Point[]) => {
      const byColumn = new Map<number, { first: number; last: number; min: number; max: number }>();
      for (const [t, p] of points) {
        const c = columnOf(t);
        const s = byColumn.get(c);
        if (!s) byColumn.set(c, { first: p, last: p, min: p, max: p });
        else Object.assign(s, { last: p, min: Math.min(s.min, p), max: Math.max(s.max, p) });
      }
      return byColumn;
    };
    expect(stats(reduced)).toEqual(stats(walk));
  });

  it('keeps the neighbours outside the window as they are', () => {
    const dense: Point[] = Array.from({ length: 100 }, (_, t) => [t, t % 7] as const);
    const reduced = reduceM4(dense, 10, 89, 2);
    expect(reduced[0]).toEqual([9, 2]);
    expect(reduced[reduced.length - 1]).toEqual([90, 6]);
    expect(reduced.length).toBeLessThanOrEqual(2 + 2 * 4);
  });
});

describe('priceAt', () => {
  it.each([
    [5, 1], // before the data: its first price
    [10, 1],
    [25, 2], // the price in effect: the last point at or before
    [40, 4],
    [99, 4],
  ])('at %s the price is %s', (time, expected) => {
    expect(priceAt(series, time)).toBe(expected);
  });

  it('is undefined for an empty series', () => {
    expect(priceAt([], 0)).toBeUndefined();
  });
});

describe('percentChange', () => {
  it('percentChange is signed', () => {
    expect(percentChange(90, 100)).toBeCloseTo(-10);
  });
});

describe('changeMarkers', () => {
  const at = (s: number, price: number): Point => [s * 1000, price];

  it('marks only the points where the price changed', () => {
    const flatThenMove = [at(0, 5), at(1, 5), at(2, 5), at(3, 6), at(4, 6), at(5, 5), at(6, 5)];
    expect(changeMarkers(flatThenMove, 0, 6000, 700, 6)).toEqual([at(0, 5), at(3, 6), at(5, 5)]);
  });

  it('compares the first point in view with the one before it', () => {
    const points = [at(0, 1), at(1, 1), at(2, 2), at(3, 2)];
    expect(changeMarkers(points, 1000, 3000, 300, 6)).toEqual([at(2, 2)]);
    expect(changeMarkers(points, 2000, 3000, 300, 6)).toEqual([at(2, 2)]);
    expect(changeMarkers(points, 3000, 3000, 300, 6)).toEqual([]);
  });

  it('draws none while the points in view are closer than the gap on average', () => {
    // 7 points in view: 42 px at 6 px each
    const busy = [at(0, 1), at(1, 2), at(2, 3), at(3, 4), at(4, 5), at(5, 6), at(6, 7)];
    expect(changeMarkers(busy, 0, 6000, 42, 6)).toHaveLength(7);
    expect(changeMarkers(busy, 0, 6000, 41, 6)).toEqual([]);
    // zoomed in to three of them, they have room again
    expect(changeMarkers(busy, 2000, 4000, 41, 6)).toEqual([at(2, 3), at(3, 4), at(4, 5)]);
  });

  it('draws nothing for a window with no points', () => {
    expect(changeMarkers(series, 100, 200, 1000, 6)).toEqual([]);
  });
});

describe('valueExtent', () => {
  it('pads the span above and below', () => {
    expect(valueExtent([10, 20], 0.1)).toEqual({ min: 9, max: 21 });
  });

  it('gives a flat series a small span', () => {
    const extent = valueExtent([100, 100])!;
    expect(extent.min).toBeLessThan(100);
    expect(extent.max).toBeGreaterThan(100);
  });

  it('ignores non-finite values and is undefined without any', () => {
    expect(valueExtent([Number.NaN, 5, 15], 0)).toEqual({ min: 5, max: 15 });
    expect(valueExtent([])).toBeUndefined();
  });
});

describe('niceScale', () => {
  it.each([
    { min: 7.79, max: 333.91, expected: { min: 0, max: 400, step: 100, ticks: 4 } },
    { min: 261.2, max: 268.9, expected: { min: 260, max: 270, step: 2, ticks: 5 } },
    { min: -3.2, max: 7.9, expected: { min: -4, max: 8, step: 2, ticks: 6 } },
    { min: 0.1, max: 0.37, expected: { min: 0.1, max: 0.4, step: 0.05, ticks: 6 } },
  ])('$min…$max', ({ min, max, expected }) => {
    expect(niceScale(min, max, 6)).toEqual(expected);
  });

  it('never exceeds the tick budget', () => {
    for (let i = 1; i < 200; i++) {
      const scale = niceScale(-i * 1.37, i * 3.1, 6)!;
      expect(scale.ticks).toBeLessThanOrEqual(6);
      expect(scale.min).toBeLessThanOrEqual(-i * 1.37);
      expect(scale.max).toBeGreaterThanOrEqual(i * 3.1);
    }
  });

  it('refuses an empty range', () => {
    expect(niceScale(5, 5)).toBeUndefined();
  });
});

describe('gapThreshold', () => {
  const every = (ms: number, count: number, from = 0): Point[] =>
    Array.from({ length: count }, (_, i) => [from + i * ms, 100] as const);

  it('is a few times the usual spacing, however long one outage is', () => {
    const ticks = [...every(5_000, 100), ...every(5_000, 100, 3_600_000)];
    expect(gapThreshold(ticks, 4, 1_000)).toBe(20_000);
  });

  it('follows a slower feed: a tick a minute breaks only after four minutes', () => {
    expect(gapThreshold(every(60_000, 30), 4, 10_000)).toBe(240_000);
  });

  it('never goes under the reduction’s own spacing, nor without two points', () => {
    expect(gapThreshold(every(5_000, 100), 4, 90_000)).toBe(90_000);
    expect(gapThreshold(every(5_000, 1), 4, 90_000)).toBe(90_000);
  });
});

describe('breakAtGaps', () => {
  const points: Point[] = [
    [0, 1],
    [5_000, 2],
    [10_000, 3],
    [700_000, 4], // a ten-minute outage before this one
    [705_000, 5],
  ];

  it('puts one break between the neighbours of an outage, and keeps every point', () => {
    expect(breakAtGaps(points, 20_000, 0, 705_000)).toEqual([0, 1, 2, -1, 3, 4]);
  });

  it('leaves a line with no gap whole', () => {
    expect(breakAtGaps(points.slice(0, 3), 20_000, 0, 705_000)).toEqual([0, 1, 2]);
  });

  it('does not break across the window’s edge (a zoomed view’s coarse overview)', () => {
    expect(breakAtGaps(points, 20_000, 600_000, 705_000)).toEqual([0, 1, 2, 3, 4]);
  });
});
