import {
  type ColumnPlan,
  type ColumnSummary,
  columnOf,
  columnStart,
  planColumns,
  pointsOfColumns,
  ROLLUP_ORIGIN_MS,
} from '../domain/m4.ts';
import type { Tick } from '../domain/tick.ts';
import { minuteEnd, type PriceSeries, type TickRepository } from './tick-repository.ts';

/** A column is reused only once it ended this long ago: later ticks for it are still being written. */
const SETTLE_MS = 2 * 60_000;
/**
 * How long reused columns are trusted. Ticks stored by the pipeline reach `forget` through pub/sub at
 * once; rows written around it (a COPY, the classic's SQL, a restore) show up in wide windows within this.
 */
const MAX_AGE_MS = 10 * 60_000;
/** Column widths kept per ticker: each chart width and range asks for one; the least recent goes first. */
const MAX_WIDTHS_PER_TICKER = 16;
/**
 * Columns kept in all (~250 bytes each): 6 tickers at 7 days take ~7,000 per chart width; a 1,000-ticker
 * watchlist viewed at many widths would take millions without a bound. The least recently read go first.
 */
const MAX_COLUMNS = 200_000;

/** The reduced columns known for one ticker at one column width: every column in [first, end). */
interface Coverage {
  first: number;
  end: number;
  /** Non-empty columns by index; a column in range but absent here holds no ticks. */
  columns: Map<number, ColumnSummary>;
  filledAt: number;
  usedAt: number;
}

/** A read under way: the tickers whose new columns it must not keep, as ticks landed in them meanwhile. */
interface PendingRead {
  columnMs: number;
  /** The columns it would keep: [first, end). */
  first: number;
  end: number;
  tainted: Set<string>;
  /** Set by `clear()`: keep nothing. */
  all: boolean;
}

/**
 * The chart's history reads with the closed part of wide windows kept in memory. A 7-day window on a
 * 1200 px chart is ~1,100 columns per ticker reduced from ~10,000 rollup rows, and all but the newest
 * column come out the same on every read: each page load, range switch and reconnect of every viewer
 * would otherwise reduce them again. Rollup columns sit on a grid fixed by their width
 * (`planColumns`), so a column computed for one request serves every later one at that width; a read
 * then reduces only the window's cut first column, the columns not yet cached, and the open last ones.
 *
 * Reads of raw ticks (windows under ~20 hours) are not cached: they are small, and mostly recent.
 */
export function createHistoryCache(
  repository: TickRepository,
  options: { now: () => number; maxColumns?: number },
) {
  const maxColumns = options.maxColumns ?? MAX_COLUMNS;
  const byTicker = new Map<string, Map<number, Coverage>>();
  const pending = new Set<PendingRead>();
  /** Columns held in all coverages. */
  let held = 0;

  function drop(ticker: string, columnMs: number): void {
    const widths = byTicker.get(ticker);
    const coverage = widths?.get(columnMs);
    if (!widths || !coverage) return;
    held -= coverage.columns.size;
    widths.delete(columnMs);
    if (widths.size === 0) byTicker.delete(ticker);
  }

  function usableCoverage(ticker: string, plan: ColumnPlan, now: number): Coverage | undefined {
    const coverage = byTicker.get(ticker)?.get(plan.columnMs);
    if (!coverage) return undefined;
    if (now - coverage.filledAt > MAX_AGE_MS) {
      drop(ticker, plan.columnMs);
      return undefined;
    }
    return coverage;
  }

  /** The least recently read coverage of all, or of one ticker. */
  function leastRecent(tickers: Iterable<string>): [string, number] | undefined {
    let oldest: [string, number, number] | undefined;
    for (const ticker of tickers) {
      for (const [columnMs, coverage] of byTicker.get(ticker) ?? []) {
        if (!oldest || coverage.usedAt < oldest[2]) oldest = [ticker, columnMs, coverage.usedAt];
      }
    }
    return oldest && [oldest[0], oldest[1]];
  }

  function remember(ticker: string, columnMs: number, coverage: Coverage): void {
    let widths = byTicker.get(ticker);
    if (!widths) {
      widths = new Map();
      byTicker.set(ticker, widths);
    }
    const replaced = widths.get(columnMs);
    if (replaced && replaced !== coverage) held -= replaced.columns.size;
    widths.set(columnMs, coverage);
    if (widths.size > MAX_WIDTHS_PER_TICKER) {
      const oldest = leastRecent([ticker]);
      if (oldest) drop(...oldest);
    }
    while (held > maxColumns) {
      const oldest = leastRecent(byTicker.keys());
      if (!oldest) break;
      drop(...oldest);
    }
  }

  /**
   * Adds the columns a read fetched from `span.readFrom` up to `span.end` to the coverage it started from
   * (unless `forget` has replaced it or cut it below that meanwhile), or to a new one from `span.first`.
   */
  function keep(
    ticker: string,
    columnMs: number,
    startedFrom: Coverage | undefined,
    columns: readonly ColumnSummary[],
    span: { first: number; readFrom: number; end: number; now: number },
  ): void {
    const current = byTicker.get(ticker)?.get(columnMs);
    if (startedFrom && startedFrom !== current) return;
    const coverage: Coverage = startedFrom ?? {
      first: span.first,
      end: span.first,
      columns: new Map(),
      filledAt: span.now,
      usedAt: span.now,
    };
    // A tick may have cut the coverage below where this read started: the columns between are unknown.
    if (coverage.end < span.readFrom) return;
    for (const summary of columns) {
      if (summary.column < coverage.end || summary.column >= span.end) continue;
      if (!coverage.columns.has(summary.column)) held += 1;
      coverage.columns.set(summary.column, summary);
    }
    coverage.end = Math.max(coverage.end, span.end);
    coverage.usedAt = span.now;
    remember(ticker, columnMs, coverage);
  }

  return {
    /** Same answer as `repository.history`, from cached columns where they are known. */
    async history(tickers: readonly string[], from: Date, to: Date, width: number): Promise<PriceSeries[]> {
      const plan = planColumns(from.getTime(), to.getTime(), width);
      if (plan.source === 'raw' || tickers.length === 0) return repository.history(tickers, from, to, width);
      const now = options.now();
      const end = minuteEnd(to.getTime());
      // The window's first column may be cut by `from`, and its last by `to` or by time still running:
      // both are always read. Columns in between that ended before the settle time can be cached.
      const first = columnOf(plan, plan.startMs);
      const last = columnOf(plan, end - 1);
      const cacheableEnd = Math.max(first + 1, Math.min(last, columnOf(plan, now - SETTLE_MS)));

      // One read for all tickers, from the earliest column any of them lacks. What is reused is taken
      // now: a tick stored while the read runs may drop it from the cache, not from this answer.
      let readFrom = cacheableEnd;
      const reuse = new Map<string, Coverage>();
      for (const ticker of tickers) {
        const coverage = usableCoverage(ticker, plan, now);
        if (!coverage || coverage.first > first + 1 || coverage.end <= first + 1) {
          readFrom = first + 1;
          continue;
        }
        reuse.set(ticker, coverage);
        readFrom = Math.min(readFrom, coverage.end);
      }
      const cached = new Map<string, ColumnSummary[]>();
      for (const [ticker, coverage] of reuse) {
        const summaries: ColumnSummary[] = [];
        for (let column = first + 1; column < readFrom; column++) {
          const summary = coverage.columns.get(column);
          if (summary) summaries.push(summary);
        }
        cached.set(ticker, summaries);
      }
      const read: PendingRead = {
        columnMs: plan.columnMs,
        first: readFrom,
        end: cacheableEnd,
        tainted: new Set(),
        all: false,
      };
      pending.add(read);
      let fresh: Map<string, ColumnSummary[]>;
      try {
        fresh = await repository.minuteColumns(tickers, plan, [
          [plan.startMs, Math.min(end, columnStart(plan, first + 1))],
          [Math.max(plan.startMs, columnStart(plan, readFrom)), end],
        ]);
      } finally {
        pending.delete(read);
      }

      return tickers.map((ticker) => {
        const columns = fresh.get(ticker) ?? [];
        if (cacheableEnd > first + 1 && !read.all && !read.tainted.has(ticker)) {
          keep(ticker, plan.columnMs, reuse.get(ticker), columns, {
            first: first + 1,
            readFrom,
            end: cacheableEnd,
            now,
          });
        }
        const summaries = [
          ...columns.filter((s) => s.column === first),
          ...(cached.get(ticker) ?? []),
          ...columns.filter((s) => s.column >= readFrom && s.column !== first),
        ];
        return { ticker, ...pointsOfColumns(summaries), columnMs: plan.columnMs, source: plan.source };
      });
    },

    /**
     * Ticks just stored: any cached column they fall into is dropped, with the columns after it (a late
     * tick after an outage lands in a column that was already closed), and a read under way will not keep
     * the columns they fall into.
     */
    forget(ticks: readonly Tick[]): void {
      // Rollup columns count from ROLLUP_ORIGIN_MS (planColumns).
      const columnOfTick = (tick: Tick, columnMs: number) =>
        columnOf({ originMs: ROLLUP_ORIGIN_MS, columnMs }, tick.time.getTime());
      for (const tick of ticks) {
        for (const read of pending) {
          const column = columnOfTick(tick, read.columnMs);
          if (column >= read.first && column < read.end) read.tainted.add(tick.ticker);
        }
        const widths = byTicker.get(tick.ticker);
        if (!widths) continue;
        for (const [columnMs, coverage] of widths) {
          const column = columnOfTick(tick, columnMs);
          if (column < coverage.first || column >= coverage.end) continue;
          if (column === coverage.first) {
            drop(tick.ticker, columnMs);
            continue;
          }
          for (const known of coverage.columns.keys()) {
            if (known < column) continue;
            coverage.columns.delete(known);
            held -= 1;
          }
          coverage.end = column;
        }
      }
    },

    /** Columns held now (bounded by `maxColumns`). */
    size(): number {
      return held;
    },

    /** Drops everything: after missing ticks (the Redis subscription was down), nothing cached is trusted. */
    clear(): void {
      for (const read of pending) read.all = true;
      byTicker.clear();
      held = 0;
    },
  };
}

export type HistoryCache = ReturnType<typeof createHistoryCache>;
