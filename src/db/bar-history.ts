import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from './client.ts';

/**
 * A ticker's provider bars over a window, columnar: `times[i]` (the first bar's start, ms since the epoch)
 * goes with `ends[i]` (the last bar's end), `open[i]`, `high[i]`, `low[i]`, `close[i]` and `volume[i]`
 * (null unless every bar in it said). Ascending by time.
 */
export interface BarSeries {
  ticker: string;
  /** Length of the stored bars in seconds (the longest, where lengths differ); null when there are none. */
  intervalS: number | null;
  times: number[];
  ends: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: (number | null)[];
  /** Width of one column of the reduction in milliseconds. */
  columnMs: number;
}

export interface BarHistory {
  /**
   * The stored bars of `tickers` that start in [from, to), merged per pixel column of a chart `width`
   * wide: one bar per column (first open, highest high, lowest low, last close, summed volume), so a
   * year of minute bars answers no more than `width` bars a ticker, however many are stored. Tickers
   * without bars in the window are absent.
   */
  reduced(tickers: readonly string[], from: Date, to: Date, width: number): Promise<BarSeries[]>;
}

type ColumnRow = {
  stock_name: string;
  start_ms: string;
  end_ms: string;
  interval_s: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string | null;
};

/**
 * Reads stock_bars reduced in PostgreSQL, by its primary key (stock_name, start, …): the merge happens
 * where the rows are, and only the columns travel. Apart from src/db/history-store.ts, which writes bars.
 */
export function createBarHistory({ db }: Pick<DatabaseHandle, 'db'>): BarHistory {
  return {
    async reduced(tickers, from, to, width) {
      const fromMs = from.getTime();
      const columnMs = Math.max(1, (to.getTime() - fromMs) / width);
      if (tickers.length === 0 || !(to.getTime() > fromMs)) return [];
      const result = await db.execute<ColumnRow>(sql`
        select stock_name,
          (extract(epoch from min(start)) * 1000)::bigint as start_ms,
          (extract(epoch from max(start + interval_s * interval '1 second')) * 1000)::bigint as end_ms,
          max(interval_s) as interval_s,
          (array_agg(open order by start))[1] as open,
          max(high) as high,
          min(low) as low,
          (array_agg(close order by start desc))[1] as close,
          case when count(volume) = count(*) then sum(volume) end as volume
        from stock_bars
        where stock_name = any(${sql.param([...tickers])}::text[])
          and start >= ${from.toISOString()}::timestamptz and start < ${to.toISOString()}::timestamptz
        group by stock_name, floor((extract(epoch from start) * 1000 - ${fromMs}) / ${columnMs})
        order by stock_name, start_ms`);
      const byTicker = new Map<string, BarSeries>();
      for (const row of result.rows) {
        let series = byTicker.get(row.stock_name);
        if (!series) {
          series = {
            ticker: row.stock_name,
            intervalS: null,
            times: [],
            ends: [],
            open: [],
            high: [],
            low: [],
            close: [],
            volume: [],
            columnMs,
          };
          byTicker.set(row.stock_name, series);
        }
        series.intervalS = Math.max(series.intervalS ?? 0, Number(row.interval_s));
        series.times.push(Number(row.start_ms));
        series.ends.push(Number(row.end_ms));
        series.open.push(Number(row.open));
        series.high.push(Number(row.high));
        series.low.push(Number(row.low));
        series.close.push(Number(row.close));
        series.volume.push(row.volume === null ? null : Number(row.volume));
      }
      return tickers.flatMap((ticker) => byTicker.get(ticker) ?? []);
    },
  };
}
