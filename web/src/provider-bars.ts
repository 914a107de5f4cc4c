/**
 * Provider bars on the page: what a history endpoint answered for whole intervals, kept apart from the
 * observed ticks of the series store. Pure: the page keeps one {@link BarRun} per ticker, merges each
 * `barHistory` answer into it for the window it asked, and the chart draws a bar's close only where no tick
 * was observed, so what was watched and what came as a bar never blur into one line.
 */
import { lowerBound } from './series-math.ts';
import type { Point } from './series-store.ts';
import type { BarSeries } from './types.ts';

/** One ticker's bars, columnar and ascending by time (see `BarSeries`). */
export type BarRun = Omit<BarSeries, 'ticker' | 'intervalS' | 'columnMs'> & {
  /** The widest merge column among the answers held: how near a tick must be to count as observed. */
  columnMs: number;
};

function emptyRun(columnMs: number): BarRun {
  return { times: [], ends: [], open: [], high: [], low: [], close: [], volume: [], columnMs };
}

/** Appends bar `i` of `from` to `to`. */
function push(to: BarRun, from: BarRun, i: number): void {
  to.times.push(from.times[i]!);
  to.ends.push(from.ends[i]!);
  to.open.push(from.open[i]!);
  to.high.push(from.high[i]!);
  to.low.push(from.low[i]!);
  to.close.push(from.close[i]!);
  to.volume.push(from.volume[i] ?? null);
}

/** The bar at `i` as one record (the tooltip's). */
export interface BarAt {
  time: number;
  end: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number | null;
}

export function barAt(run: BarRun, i: number): BarAt | undefined {
  if (i < 0 || i >= run.times.length) return undefined;
  return {
    time: run.times[i]!,
    end: run.ends[i]!,
    open: run.open[i]!,
    high: run.high[i]!,
    low: run.low[i]!,
    close: run.close[i]!,
    volume: run.volume[i] ?? null,
  };
}

/** The bars of `run` for which `keep(time)` holds, as a new run. */
function filterRun(run: BarRun, keep: (time: number) => boolean): BarRun {
  const out = emptyRun(run.columnMs);
  run.times.forEach((time, i) => {
    if (keep(time)) push(out, run, i);
  });
  return out;
}

/**
 * `existing` with the window [from, to] replaced by `answer` (the bars the server has there now, possibly
 * at a finer merge after a zoom), ascending. A missing answer empties the window: the server left the
 * ticker out because it holds no bars there.
 */
export function mergeBarWindow(
  existing: BarRun | undefined,
  answer: BarSeries | undefined,
  from: number,
  to: number,
): BarRun {
  const kept = filterRun(existing ?? emptyRun(0), (time) => time < from || time > to);
  if (!answer || answer.times.length === 0) return kept;
  const incoming: BarRun = {
    times: answer.times,
    ends: answer.ends,
    open: answer.open,
    high: answer.high,
    low: answer.low,
    close: answer.close,
    volume: answer.volume,
    columnMs: answer.columnMs ?? 0,
  };
  const order = [
    ...kept.times.map((time, i) => ({ time, run: kept, i })),
    ...incoming.times.map((time, i) => ({ time, run: incoming, i })),
  ].sort((a, b) => a.time - b.time);
  const merged = emptyRun(Math.max(kept.columnMs, incoming.columnMs));
  for (const { run, i } of order) push(merged, run, i);
  return merged;
}

/** `run` without the bars that start before `from` (the range picker narrowed the window). */
export function pruneBarsBefore(run: BarRun, from: number): BarRun {
  return filterRun(run, (time) => time >= from);
}

/**
 * The line to draw through `run`'s closes where no tick was observed: `[ms, close]` at each such bar's
 * start, and `[ms, null]` (a break in the line) where observed ticks take over, so the bar line never
 * joins across them. A bar counts as observed when a tick of `observed` lies within its span widened by
 * the run's merge column (the tick series is reduced per column too, so its points sit anywhere in one).
 * `index[k]` is the bar drawn at `points[k]`, -1 at a break.
 */
export function unobservedBarLine(
  run: BarRun,
  observed: readonly Point[],
): { points: [number, number | null][]; index: number[] } {
  const points: [number, number | null][] = [];
  const index: number[] = [];
  const slack = run.columnMs;
  for (let i = 0; i < run.times.length; i++) {
    const start = run.times[i]! - slack;
    const end = run.ends[i]! + slack;
    const next = lowerBound(observed, start);
    const seen = next < observed.length && observed[next]![0] <= end;
    if (seen) {
      if (points.length > 0 && points[points.length - 1]![1] !== null) {
        points.push([run.times[i]!, null]);
        index.push(-1);
      }
      continue;
    }
    points.push([run.times[i]!, run.close[i]!]);
    index.push(i);
  }
  // A break with nothing after it is no break (and ApexCharts would draw its hover marker at infinity).
  if (points.length > 0 && points[points.length - 1]![1] === null) {
    points.pop();
    index.pop();
  }
  return { points, index };
}

/** The close of the last bar that starts at or before `time`, or undefined when none does. */
export function closeAt(run: BarRun, time: number): number | undefined {
  let lo = 0;
  let hi = run.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (run.times[mid]! <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? run.close[lo - 1] : undefined;
}
