import { describe, expect, it } from 'vitest';
import { barAt, mergeBarWindow, pruneBarsBefore, unobservedBarLine } from './provider-bars.ts';
import type { Point } from './series-store.ts';
import type { BarSeries } from './types.ts';

const MIN = 60_000;

/** Minute bars starting at each of `starts` (in minutes), closing at 100 + the minute. */
function bars(starts: number[], columnMs = 0): BarSeries {
  return {
    ticker: 'AAPL',
    intervalS: 60,
    times: starts.map((m) => m * MIN),
    ends: starts.map((m) => (m + 1) * MIN),
    open: starts.map((m) => 100 + m),
    high: starts.map((m) => 101 + m),
    low: starts.map((m) => 99 + m),
    close: starts.map((m) => 100 + m),
    volume: starts.map((m) => (m % 2 === 0 ? 1000 : null)),
    columnMs,
  };
}

describe('mergeBarWindow', () => {
  it('replaces the asked window and keeps what lies outside it, ascending', () => {
    const first = mergeBarWindow(undefined, bars([0, 1, 2, 3, 4]), 0, 4 * MIN);
    const merged = mergeBarWindow(first, bars([2, 3]), 1.5 * MIN, 3.5 * MIN);
    expect(merged.times).toEqual([0, 1, 2, 3, 4].map((m) => m * MIN));
    expect(merged.volume).toEqual([1000, null, 1000, null, 1000]);
  });

  it('empties the window when the answer has no bars there', () => {
    const first = mergeBarWindow(undefined, bars([0, 1, 2, 3]), 0, 3 * MIN);
    expect(mergeBarWindow(first, undefined, MIN, 2 * MIN).times).toEqual([0, 3 * MIN]);
  });

  it('prunes the bars before a new window start', () => {
    const run = mergeBarWindow(undefined, bars([0, 1, 2]), 0, 2 * MIN);
    expect(pruneBarsBefore(run, MIN).times).toEqual([MIN, 2 * MIN]);
  });
});

describe('unobservedBarLine', () => {
  const run = mergeBarWindow(undefined, bars([0, 1, 2, 3, 4, 5]), 0, 5 * MIN);

  it.each<[string, Point[], (number | null)[]]>([
    ['no ticks: every close', [], [100, 101, 102, 103, 104, 105]],
    [
      'ticks in minutes 2–3: a break where they are',
      [
        [2.5 * MIN, 1],
        [3.5 * MIN, 1],
      ],
      [100, 101, null, 104, 105],
    ],
    [
      'ticks from minute 4 on: the bars stop there',
      [
        [4.2 * MIN, 1],
        [5.5 * MIN, 1],
      ],
      [100, 101, 102, 103],
    ],
    [
      'ticks everywhere: nothing drawn',
      [
        [0.5 * MIN, 1],
        [1.5 * MIN, 1],
        [2.5 * MIN, 1],
        [3.5 * MIN, 1],
        [4.5 * MIN, 1],
        [5.5 * MIN, 1],
      ],
      [],
    ],
  ])('%s', (_, observed, closes) => {
    const line = unobservedBarLine(run, observed);
    expect(line.points.map(([, close]) => close)).toEqual(closes);
    // every drawn close points back at its bar, every break at none
    line.points.forEach(([time, close], k) => {
      if (close === null) expect(line.index[k]).toBe(-1);
      else expect(barAt(run, line.index[k]!)).toMatchObject({ time, close });
    });
  });

  it('widens a bar by the merge column: a tick in the neighbouring column counts as observed', () => {
    const wide = mergeBarWindow(undefined, bars([0, 10, 20], 5 * MIN), 0, 20 * MIN);
    expect(unobservedBarLine(wide, [[14 * MIN, 1]]).points.map(([, c]) => c)).toEqual([100, null, 120]);
  });
});
