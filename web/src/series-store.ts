/**
 * The page's copy of the price series, one per watched ticker, kept apart from the chart so that other views
 * (cards, later the 52-week bands, range picker and compare mode) read the same data, and so the merge rules
 * are plain functions a unit test can table.
 *
 * Every write returns a {@link SeriesChange} that says how the data moved: points appended after a ticker's
 * last point (the common live case — the chart can `appendData` those) or a ticker "rewritten" (points
 * inserted, replaced or dropped in the middle — the chart must replace that series). Writes are idempotent:
 * the same tick from the subscription and from a history backfill is stored once.
 */
import type { PriceSeries, Tick } from './types.ts';

/** `[time in ms since the epoch, price in dollars]`: the shape ApexCharts takes for a datetime axis. */
export type Point = readonly [time: number, price: number];

/** How one write changed the store. Empty when nothing changed. */
export interface SeriesChange {
  /** The set or order of tickers changed: every series must be redrawn. */
  structural: boolean;
  /** Tickers whose points changed other than at the end. */
  rewritten: Set<string>;
  /** Per ticker, new points that all lie after the ticker's previous last point, ascending. */
  appended: Map<string, Point[]>;
  /** Tickers that arrived in ticks but are not on the page's watchlist (their ticks were ignored). */
  unknown: Set<string>;
}

/** The outcome of merging new points into one ascending series. */
export type MergePlan =
  | { kind: 'none' }
  /** `points` all come after the last existing point; the existing points are untouched. */
  | { kind: 'append'; points: Point[] }
  /** `points` is the whole new series. */
  | { kind: 'rewrite'; points: Point[] };

export function emptyChange(): SeriesChange {
  return { structural: false, rewritten: new Set(), appended: new Map(), unknown: new Set() };
}

export function isEmptyChange(change: SeriesChange): boolean {
  return (
    !change.structural &&
    change.rewritten.size === 0 &&
    change.appended.size === 0 &&
    change.unknown.size === 0
  );
}

/**
 * Folds `next` into `into` (mutating and returning it), as if both writes had been one. A ticker that was
 * rewritten by either write stays rewritten: its appended points are then part of the full series anyway.
 */
export function combineChanges(into: SeriesChange, next: SeriesChange): SeriesChange {
  into.structural ||= next.structural;
  for (const ticker of next.rewritten) {
    into.rewritten.add(ticker);
    into.appended.delete(ticker);
  }
  for (const [ticker, points] of next.appended) {
    if (into.rewritten.has(ticker)) continue;
    const pending = into.appended.get(ticker);
    if (pending) pending.push(...points);
    else into.appended.set(ticker, points.slice());
  }
  for (const ticker of next.unknown) into.unknown.add(ticker);
  return into;
}

/**
 * Sorts points by time, drops non-finite ones, rounds times to whole milliseconds and keeps the last point
 * of each millisecond. Rounding matters: the subscription sends ISO strings (ms precision) while history
 * sends floats that could carry Postgres' microseconds, and the two must meet as one point.
 */
export function normalizePoints(points: readonly Point[]): Point[] {
  // Fast path, the common case (history arrives ascending in whole ms): one pass, no sorting, no copies of
  // the points themselves. First paint merges ~30k of them, where the general path below cost ~70 ms.
  let clean = true;
  let previous = Number.NEGATIVE_INFINITY;
  for (const [time, price] of points) {
    if (!(time > previous) || !Number.isInteger(time) || !Number.isFinite(price)) {
      clean = false;
      break;
    }
    previous = time;
  }
  if (clean) return points.slice();

  const rounded: Point[] = [];
  for (const [time, price] of points) {
    if (Number.isFinite(time) && Number.isFinite(price)) rounded.push([Math.round(time), price]);
  }
  // Array.prototype.sort is stable, so "last one wins" below means "last one given wins".
  rounded.sort((a, b) => a[0] - b[0]);
  const out: Point[] = [];
  for (const point of rounded) {
    const last = out[out.length - 1];
    if (last && last[0] === point[0]) out[out.length - 1] = point;
    else out.push(point);
  }
  return out;
}

/** Index of the point at exactly `time` in an ascending series, or -1. */
function indexOfTime(points: readonly Point[], time: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = points[mid]![0];
    if (t === time) return mid;
    if (t < time) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Plans how to merge `incoming` into the ascending series `existing` (neither is modified). A point at a time
 * the series already has replaces it when the price differs and is ignored when it is the same.
 */
export function planMerge(existing: readonly Point[], incoming: readonly Point[]): MergePlan {
  const fresh = normalizePoints(incoming);
  if (fresh.length === 0) return { kind: 'none' };
  const lastTime = existing.length > 0 ? existing[existing.length - 1]![0] : Number.NEGATIVE_INFINITY;

  const after: Point[] = [];
  let needsRewrite = false;
  for (const point of fresh) {
    if (point[0] > lastTime) {
      after.push(point);
      continue;
    }
    const at = indexOfTime(existing, point[0]);
    if (at === -1 || existing[at]![1] !== point[1]) {
      needsRewrite = true;
      break;
    }
  }
  if (!needsRewrite) return after.length > 0 ? { kind: 'append', points: after } : { kind: 'none' };

  // Two-pointer merge of two ascending lists; on equal times the incoming point wins.
  const merged: Point[] = [];
  let i = 0;
  let j = 0;
  while (i < existing.length || j < fresh.length) {
    const a = existing[i];
    const b = fresh[j];
    if (b === undefined || (a !== undefined && a[0] < b[0])) {
      merged.push(a!);
      i++;
    } else {
      if (a !== undefined && a[0] === b[0]) i++;
      merged.push(b);
      j++;
    }
  }
  return { kind: 'rewrite', points: merged };
}

/** Converts the API's columnar arrays into points, ignoring a trailing element of the longer array. */
export function pointsFromColumns(times: readonly number[], prices: readonly number[]): Point[] {
  const n = Math.min(times.length, prices.length);
  const points: Point[] = new Array(n);
  for (let i = 0; i < n; i++) points[i] = [times[i]!, prices[i]!];
  return points;
}

/** Converts a tick's ISO time into a point; NaN times are dropped later by {@link normalizePoints}. */
export function pointFromTick(tick: Tick): Point {
  return [Date.parse(tick.time), tick.price];
}

export interface SeriesStore {
  /** Watched tickers, in watchlist order: this is also the chart's series order. */
  tickers(): readonly string[];
  has(ticker: string): boolean;
  /** The ticker's points, ascending. Read-only: callers that hand them on must copy. */
  points(ticker: string): readonly Point[];
  pointCount(ticker: string): number;
  first(ticker: string): Point | undefined;
  latest(ticker: string): Point | undefined;
  /**
   * Replaces the set of tickers (new ones start empty, missing ones are dropped with their points). Ticks and
   * history for tickers outside this set are ignored.
   */
  setTickers(tickers: readonly string[]): SeriesChange;
  mergeHistory(history: readonly PriceSeries[]): SeriesChange;
  mergeTicks(ticks: readonly Tick[]): SeriesChange;
  /** Drops points older than `time` (keeps the page's window bounded when it stays open for days). */
  pruneBefore(time: number): SeriesChange;
  /**
   * Replaces every ticker's points with `reduce(points)`, which must return a subset of them in order (as
   * series-math.ts `foldBefore` does); a ticker whose count changed is rewritten.
   */
  reduceEach(reduce: (points: readonly Point[]) => Point[]): SeriesChange;
  /**
   * Where a backfill after a reconnect should start: the oldest "last point" over all tickers that have data,
   * so that no ticker misses a point; null when there is no data at all (load the full window instead).
   */
  resumeFrom(): number | null;
}

export function createSeriesStore(): SeriesStore {
  let order: string[] = [];
  const series = new Map<string, Point[]>();

  function apply(ticker: string, incoming: readonly Point[], change: SeriesChange): void {
    const existing = series.get(ticker);
    if (!existing) return;
    const plan = planMerge(existing, incoming);
    if (plan.kind === 'append') {
      // push in a loop: spreading a 100k-point history into push() can overflow the call stack
      for (const point of plan.points) existing.push(point);
      combineChanges(change, { ...emptyChange(), appended: new Map([[ticker, plan.points]]) });
    } else if (plan.kind === 'rewrite') {
      series.set(ticker, plan.points);
      change.rewritten.add(ticker);
      change.appended.delete(ticker);
    }
  }

  return {
    tickers: () => order,
    has: (ticker) => series.has(ticker),
    points: (ticker) => series.get(ticker) ?? [],
    pointCount: (ticker) => series.get(ticker)?.length ?? 0,
    first: (ticker) => series.get(ticker)?.[0],
    latest(ticker) {
      const points = series.get(ticker);
      return points?.[points.length - 1];
    },

    setTickers(tickers) {
      const change = emptyChange();
      const next = [...new Set(tickers)];
      if (next.length === order.length && next.every((ticker, i) => ticker === order[i])) return change;
      for (const ticker of order) if (!next.includes(ticker)) series.delete(ticker);
      for (const ticker of next) if (!series.has(ticker)) series.set(ticker, []);
      order = next;
      change.structural = true;
      return change;
    },

    mergeHistory(history) {
      const change = emptyChange();
      for (const { ticker, times, prices } of history)
        apply(ticker, pointsFromColumns(times, prices), change);
      return change;
    },

    mergeTicks(ticks) {
      const change = emptyChange();
      const byTicker = new Map<string, Point[]>();
      for (const tick of ticks) {
        if (!series.has(tick.ticker)) {
          change.unknown.add(tick.ticker);
          continue;
        }
        const list = byTicker.get(tick.ticker);
        if (list) list.push(pointFromTick(tick));
        else byTicker.set(tick.ticker, [pointFromTick(tick)]);
      }
      for (const [ticker, points] of byTicker) apply(ticker, points, change);
      return change;
    },

    pruneBefore(time) {
      const change = emptyChange();
      for (const [ticker, points] of series) {
        let cut = 0;
        while (cut < points.length && points[cut]![0] < time) cut++;
        if (cut === 0) continue;
        series.set(ticker, points.slice(cut));
        change.rewritten.add(ticker);
      }
      return change;
    },

    reduceEach(reduce) {
      const change = emptyChange();
      for (const [ticker, points] of series) {
        const folded = reduce(points);
        if (folded.length === points.length) continue;
        series.set(ticker, folded);
        change.rewritten.add(ticker);
      }
      return change;
    },

    resumeFrom() {
      let oldest: number | null = null;
      for (const points of series.values()) {
        const last = points[points.length - 1];
        if (last && (oldest === null || last[0] < oldest)) oldest = last[0];
      }
      return oldest;
    },
  };
}
