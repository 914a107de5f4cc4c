/**
 * Pure arithmetic on price series for drawing: what lies in the visible window, how to reduce it to what a
 * pixel column can show, where the price changed, and how to rebase prices to a percentage. No DOM, no
 * ApexCharts: the chart calls these on every draw, the specs table them.
 */
import type { Point } from './series-store.ts';

/** Index of the first point at or after `time` in an ascending series (`points.length` when none). */
export function lowerBound(points: readonly Point[], time: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]![0] < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first point strictly after `time` (`points.length` when none). */
export function upperBound(points: readonly Point[], time: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]![0] <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The index range `[start, end)` of the points inside `[min, max]`, widened by one point on each side so a
 * line drawn from them runs on to the plot's edges instead of stopping at the last point inside.
 */
export function visibleRange(points: readonly Point[], min: number, max: number): [number, number] {
  const start = Math.max(0, lowerBound(points, min) - 1);
  const end = Math.min(points.length, upperBound(points, max) + 1);
  return [start, Math.max(start, end)];
}

/**
 * M4 (Jugel et al., VLDB 2014) on the client: per pixel column of `[min, max]`, keeps only the first, last,
 * lowest and highest point, which draws the same line at that width as every point does. The server already
 * sends M4-reduced history; this keeps the chart at ≤ 4 points per column as live ticks pile up on top of
 * it (a day left open adds 17k points per ticker) and after zooming merges finer history in. The points
 * just outside the window (see {@link visibleRange}) are kept as they are.
 */
export function reduceM4(points: readonly Point[], min: number, max: number, columns: number): Point[] {
  const [start, end] = visibleRange(points, min, max);
  const cols = Math.max(1, Math.floor(columns));
  if (end - start <= cols * 4 || !(max > min)) return points.slice(start, end);

  const out: Point[] = [];
  const scale = cols / (max - min);
  const columnsOut = m4Columns(points, out);
  for (let i = start; i < end; i++) {
    const time = points[i]![0];
    if (time < min || time > max) {
      // a neighbour outside the window: its own column, kept as is
      columnsOut.flush();
      out.push(points[i]!);
      continue;
    }
    columnsOut.add(i, Math.min(cols - 1, Math.floor((time - min) * scale)));
  }
  columnsOut.flush();
  return out;
}

/**
 * Collects M4 columns into `out`: `add(i, column)` takes point `i` into its column (columns arrive in
 * order); each finished column appends its first, lowest, highest and last point, in time order, each once.
 */
function m4Columns(points: readonly Point[], out: Point[]) {
  let column = Number.NaN;
  let first = -1;
  let last = -1;
  let low = -1;
  let high = -1;
  const flush = () => {
    if (first !== -1) {
      const picks = [first, low, high, last].sort((a, b) => a - b);
      let previous = -1;
      for (const index of picks) {
        if (index !== previous) out.push(points[index]!);
        previous = index;
      }
    }
    first = -1;
    column = Number.NaN;
  };
  return {
    add(i: number, c: number) {
      if (c !== column) {
        flush();
        column = c;
        first = low = high = i;
      } else {
        const price = points[i]![1];
        if (price < points[low]![1]) low = i;
        if (price > points[high]![1]) high = i;
      }
      last = i;
    },
    flush,
  };
}

/**
 * Folds the points before `before` into M4 columns of `columnMs` on the epoch's grid (the server's minute
 * rollup uses the same grid for a minute): each column keeps its first, lowest, highest and last point, all
 * of them observed points. Points from `before` on are kept as they are. This bounds what a page left open
 * holds — a day of 5-second ticks is 17,280 points a ticker, folded to minutes at most 5,760 — while any
 * range a minute per pixel or coarser still draws the extremes it drew.
 */
export function foldBefore(points: readonly Point[], before: number, columnMs: number): Point[] {
  const cutoff = Math.floor(before / columnMs) * columnMs;
  const out: Point[] = [];
  const columnsOut = m4Columns(points, out);
  let i = 0;
  for (; i < points.length && points[i]![0] < cutoff; i++) {
    columnsOut.add(i, Math.floor(points[i]![0] / columnMs));
  }
  columnsOut.flush();
  for (; i < points.length; i++) out.push(points[i]!);
  return out;
}

/**
 * The price in effect at `time`: the last point at or before it, or, when the series starts later, its
 * first point. Undefined for an empty series. This is the "window's start" that compare mode and the
 * cards measure change from.
 */
export function priceAt(points: readonly Point[], time: number): number | undefined {
  if (points.length === 0) return undefined;
  const after = upperBound(points, time);
  return (after > 0 ? points[after - 1] : points[0])![1];
}

/** `price` as a percentage change from `base`: 110 from 100 is +10. */
export function percentChange(price: number, base: number): number {
  return ((price - base) / base) * 100;
}

/**
 * Where to put markers: at the points whose price differs from the point before (the classic drew its dots
 * only next to changes; a stretch where the price stands still gets none), inside `[min, max]`, and only
 * while the points there are at least `minGapPx` apart on average over `widthPx`, i.e. zoomed in far enough
 * that single ticks can be told apart. Wider than that, the points are too close for dots to mean anything
 * (and history there arrives M4-reduced, so two stored points are not two consecutive ticks): no markers,
 * rather than a smear or a scatter of dots at random. A series' very first point counts as a change.
 */
export function changeMarkers(
  points: readonly Point[],
  min: number,
  max: number,
  widthPx: number,
  minGapPx: number,
): Point[] {
  const start = lowerBound(points, min);
  const end = upperBound(points, max);
  if ((end - start) * minGapPx > widthPx) return [];
  const out: Point[] = [];
  for (let i = start; i < end; i++) {
    const point = points[i]!;
    const previous = points[i - 1];
    if (!previous || previous[1] !== point[1]) out.push(point);
  }
  return out;
}

export interface Extent {
  min: number;
  max: number;
}

/**
 * The y-range that shows `values` with `padding` (a fraction of the span) above and below; a flat set gets
 * a small span around its value so the line is not drawn on the plot's edge. Undefined when there are no
 * finite values.
 */
export function valueExtent(values: Iterable<number>, padding = 0.06): Extent | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (min > max) return undefined;
  let span = max - min;
  if (span === 0) span = Math.max(Math.abs(min) * 0.02, 0.5);
  return { min: min - span * padding, max: max + span * padding };
}

export interface NiceScale {
  min: number;
  max: number;
  step: number;
  /** Intervals between min and max (ApexCharts' `tickAmount`). */
  ticks: number;
}

/** 1, 2, 2.5 or 5 times a power of ten: the steps an axis reads easily. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * Axis bounds on round numbers around `[min, max]` with at most `maxTicks` intervals: $0…$400 by 100 rather
 * than $7.79…$333.91. Undefined for an empty or non-finite range.
 */
export function niceScale(min: number, max: number, maxTicks = 6): NiceScale | undefined {
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) return undefined;
  let step = niceStep((max - min) / Math.max(1, maxTicks));
  let lo = Math.floor(min / step) * step;
  let hi = Math.ceil(max / step) * step;
  // rounding both ends outward can add an interval: take the next step up if it went over
  while ((hi - lo) / step > maxTicks + 1e-9) {
    step = niceStep(step * 1.01);
    lo = Math.floor(min / step) * step;
    hi = Math.ceil(max / step) * step;
  }
  const round = (value: number) => Number.parseFloat(value.toPrecision(12));
  return { min: round(lo), max: round(hi), step, ticks: Math.round((hi - lo) / step) };
}

/**
 * How far apart consecutive points may lie before the line breaks between them: `factor` times their
 * usual spacing (the median, so a few gaps do not stretch it), and never under `minGapMs` (the reduction's
 * own spacing: M4 keeps at most four points a column, so neighbours can sit about two columns apart).
 * A series with fewer than two points has no spacing; `minGapMs` then. Every draw asks, for every line:
 * the spacings are sorted as a Float64Array, numerically and without a comparator call per step.
 */
export function gapThreshold(points: readonly Point[], factor: number, minGapMs: number): number {
  if (points.length < 2) return minGapMs;
  const spacings = new Float64Array(points.length - 1);
  for (let i = 1; i < points.length; i++) spacings[i - 1] = points[i]![0] - points[i - 1]![0];
  spacings.sort();
  const median = spacings[Math.floor(spacings.length / 2)]!;
  return Math.max(minGapMs, factor * median);
}

/**
 * The line as drawn, as indexes into `points`: -1 is a break, put between two neighbours inside
 * `[min, max]` that lie more than `maxGapMs` apart. ApexCharts ends a line at a null, so an outage shows
 * as an empty stretch instead of a straight line across it. Gaps outside the window (in a zoomed view's
 * coarse overview, whose spacing is not the data's) are not broken.
 */
export function breakAtGaps(points: readonly Point[], maxGapMs: number, min: number, max: number): number[] {
  const index: number[] = [];
  for (let i = 0; i < points.length; i++) {
    if (i > 0) {
      const before = points[i - 1]![0];
      const at = points[i]![0];
      if (at - before > maxGapMs && before >= min && at <= max) index.push(-1);
    }
    index.push(i);
  }
  return index;
}
