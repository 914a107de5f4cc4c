/**
 * M4 (Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation", VLDB 2014): for a line
 * chart `width` pixels wide, keeping per pixel column only the first, last, lowest and highest point draws
 * the same pixels as drawing every point. These are the pure parts: how to lay out the columns, and a
 * reference reducer that the SQL version is tested against.
 */

const MINUTE_MS = 60_000;
/** Minute buckets of the rollup are aligned to this origin (matches the date_bin origin in the migration). */
export const ROLLUP_ORIGIN_MS = Date.UTC(2000, 0, 1);

export interface ColumnPlan {
  /** `minute`: reduce the per-minute rollup; `raw`: reduce stored ticks (columns narrower than a minute). */
  source: 'raw' | 'minute';
  /**
   * Start of column 0: `from` for raw ticks; ROLLUP_ORIGIN_MS for the rollup, so that a column number
   * means the same span of time in every request that uses its width, and closed columns can be reused.
   */
  originMs: number;
  /** Width of one column in milliseconds; a whole number of minutes when the source is the rollup. */
  columnMs: number;
  /** Where the data read starts: `from` for raw ticks, its minute bucket for the rollup. */
  startMs: number;
}

/**
 * Lays out `width` columns over [fromMs, toMs]. When a column spans a minute or more it is widened to a
 * whole number of minutes and aligned to the rollup's minute buckets, so each column is a union of whole
 * buckets and reducing the rollup gives exactly what reducing the raw ticks would. Such columns sit on a
 * grid fixed by their width alone, not by `fromMs`: the first one may begin before the window (it then
 * holds only the window's part). `rawSinceMs`, where raw ticks begin, makes a window starting before it
 * read the rollup however narrow.
 */
export function planColumns(fromMs: number, toMs: number, width: number, rawSinceMs?: number): ColumnPlan {
  const span = Math.max(toMs - fromMs, 1);
  // Whole milliseconds: Postgres intervals hold microseconds, so a fractional stride would drift from the
  // pixel grid over a thousand columns.
  const columnMs = Math.ceil(span / width);
  // A window reaching back past the raw horizon (RETAIN_TICKS_DAYS) finds no ticks there: the rollup,
  // kept for ever, draws it at its finest, one column per minute.
  const rawGone = rawSinceMs !== undefined && fromMs < rawSinceMs;
  if (columnMs < MINUTE_MS && !rawGone) return { source: 'raw', originMs: fromMs, columnMs, startMs: fromMs };
  return {
    source: 'minute',
    originMs: ROLLUP_ORIGIN_MS,
    columnMs: Math.ceil(columnMs / MINUTE_MS) * MINUTE_MS,
    startMs: ROLLUP_ORIGIN_MS + Math.floor((fromMs - ROLLUP_ORIGIN_MS) / MINUTE_MS) * MINUTE_MS,
  };
}

/** The column of `plan` that holds the instant `ms`. */
export function columnOf(plan: Pick<ColumnPlan, 'originMs' | 'columnMs'>, ms: number): number {
  return Math.floor((ms - plan.originMs) / plan.columnMs);
}

/** Where column `column` of `plan` starts. */
export function columnStart(plan: ColumnPlan, column: number): number {
  return plan.originMs + column * plan.columnMs;
}

export interface Point {
  time: number;
  price: number;
}

export interface ColumnSummary {
  column: number;
  first: Point;
  last: Point;
  min: Point;
  max: Point;
}

/** The M4 summary of each non-empty column, from every point. Points need not be sorted. */
export function summarizeColumns(points: readonly Point[], plan: ColumnPlan): ColumnSummary[] {
  const columns = new Map<number, ColumnSummary>();
  for (const point of points) {
    const column = Math.floor((point.time - plan.originMs) / plan.columnMs);
    const summary = columns.get(column);
    if (!summary) {
      columns.set(column, { column, first: point, last: point, min: point, max: point });
      continue;
    }
    if (point.time < summary.first.time) summary.first = point;
    if (point.time > summary.last.time) summary.last = point;
    if (point.price < summary.min.price) summary.min = point;
    if (point.price > summary.max.price) summary.max = point;
  }
  return [...columns.values()].sort((a, b) => a.column - b.column);
}

/** The points M4 keeps: each column's first, last, min and max, once each, in time order. */
export function reduceM4(points: readonly Point[], plan: ColumnPlan): Point[] {
  const { times, prices } = pointsOfColumns(summarizeColumns(points, plan));
  return times.map((time, i) => ({ time, price: prices[i]! }));
}

/**
 * The line drawn from column summaries sorted by column: each column's distinct points in time order.
 * Columns do not overlap in time, so the whole series comes out in time order.
 */
export function pointsOfColumns(summaries: readonly ColumnSummary[]): { times: number[]; prices: number[] } {
  const times: number[] = [];
  const prices: number[] = [];
  for (const { first, min, max, last } of summaries) {
    const [low, high] = min.time <= max.time ? [min, max] : [max, min];
    for (const point of [first, low, high, last]) {
      // A point can be the column's first and its extreme at once: draw it once.
      if (times.length > 0 && times[times.length - 1]! >= point.time) continue;
      times.push(point.time);
      prices.push(point.price);
    }
  }
  return { times, prices };
}
