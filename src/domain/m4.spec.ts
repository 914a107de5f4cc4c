import { describe, expect, it } from 'vitest';
import { columnOf, columnStart, planColumns, ROLLUP_ORIGIN_MS, reduceM4, summarizeColumns } from './m4.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('planColumns', () => {
  it.each([
    // span, width → source, minutes per column
    [7 * DAY, 1200, 'minute', 9],
    [7 * DAY, 1000, 'minute', 11],
    [DAY, 1440, 'minute', 1],
    [DAY, 1441, 'raw', undefined],
    [3_600_000, 1000, 'raw', undefined],
    [30 * DAY, 800, 'minute', 54],
  ])('span %d ms over %d px reads %s', (span, width, source, minutes) => {
    const from = Date.UTC(2026, 10, 23, 15, 0, 17);
    const plan = planColumns(from, from + span, width);
    expect(plan.source).toBe(source);
    if (minutes !== undefined) {
      expect(plan.columnMs).toBe(minutes * MINUTE);
      // The data starts at `from`'s minute bucket; the columns sit on a grid fixed by their width alone.
      expect(plan.startMs).toBe(from - 17_000);
      expect(plan.originMs).toBe(ROLLUP_ORIGIN_MS);
      // Never more columns than pixels (+1 for the cut first column).
      const columns = columnOf(plan, from + span) - columnOf(plan, plan.startMs) + 1;
      expect(columns).toBeLessThanOrEqual(width + 1);
      expect(columnStart(plan, columnOf(plan, plan.startMs))).toBeLessThanOrEqual(plan.startMs);
    } else {
      expect(plan.originMs).toBe(from);
      expect(plan.startMs).toBe(from);
      expect(plan.columnMs).toBe(Math.ceil(span / width));
    }
  });
});

describe('reduceM4', () => {
  const plan = { source: 'raw' as const, originMs: 0, columnMs: 10, startMs: 0 };
  it('keeps first, last, min and max per column, in time order', () => {
    const points = [
      { time: 0, price: 5 },
      { time: 2, price: 9 },
      { time: 4, price: 1 },
      { time: 6, price: 4 },
      { time: 8, price: 6 },
      { time: 12, price: 3 },
    ];
    expect(reduceM4(points, plan)).toEqual([
      { time: 0, price: 5 },
      { time: 2, price: 9 },
      { time: 4, price: 1 },
      { time: 8, price: 6 },
      { time: 12, price: 3 },
    ]);
  });
  it('is a no-op on sparse data (at most four points per column)', () => {
    const points = [0, 10, 20, 30].map((time) => ({ time, price: time / 10 }));
    expect(reduceM4(points, plan)).toEqual(points);
  });
  it('summarises columns whatever the input order', () => {
    const [s] = summarizeColumns(
      [
        { time: 7, price: 2 },
        { time: 1, price: 3 },
        { time: 3, price: 8 },
      ],
      plan,
    );
    expect(s).toEqual({
      column: 0,
      first: { time: 1, price: 3 },
      last: { time: 7, price: 2 },
      min: { time: 7, price: 2 },
      max: { time: 3, price: 8 },
    });
  });
});
