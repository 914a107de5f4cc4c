import { sql } from 'drizzle-orm';
import type { Tick } from '../domain/tick.ts';
import type { Database } from './client.ts';

export interface PriceSeries {
  ticker: string;
  /** Milliseconds since the epoch, ascending; times[i] goes with prices[i]. */
  times: number[];
  prices: number[];
}

export interface TickRepository {
  /**
   * Stores ticks in one set-based statement and returns only the rows that were new. Idempotent: a tick
   * whose (ticker, time) is already stored is skipped, so a retried job never doubles a row, and what it
   * returns is exactly what subscribers have not yet been told about.
   */
  insertTicks(ticks: readonly Tick[]): Promise<Tick[]>;
  /** Prices per ticker in [from, to], ascending, one series per requested ticker (empty when no rows). */
  history(tickers: readonly string[], from: Date, to: Date): Promise<PriceSeries[]>;
  countTicks(ticker?: string): Promise<number>;
}

export function createTickRepository(db: Database): TickRepository {
  return {
    async insertTicks(ticks) {
      if (ticks.length === 0) return [];
      // unnest over three bound arrays: one round trip and one plan for any batch size, and ~4x faster than
      // a multi-row VALUES list (measured on this machine, see ARCHITECTURE.md).
      const result = await db.execute<{ stock_name: string; price: string; time: string }>(sql`
        insert into stock_prices (stock_name, price, time)
        select * from unnest(
          ${sql.param(ticks.map((t) => t.ticker))}::text[],
          ${sql.param(ticks.map((t) => String(t.price)))}::numeric[],
          ${sql.param(ticks.map((t) => t.time.toISOString()))}::timestamptz[]
        )
        on conflict (stock_name, time) do nothing
        returning stock_name, price, time`);
      // Drizzle hands raw SQL timestamps back as text.
      return result.rows.map((row) => ({
        ticker: row.stock_name,
        price: Number(row.price),
        time: new Date(row.time),
      }));
    },

    async history(tickers, from, to) {
      const series = new Map<string, PriceSeries>(
        tickers.map((t) => [t, { ticker: t, times: [], prices: [] }]),
      );
      if (tickers.length === 0) return [];
      const result = await db.execute<{ stock_name: string; price: string; ms: string }>(sql`
        select stock_name, price, (extract(epoch from time) * 1000)::bigint as ms
        from stock_prices
        where stock_name = any(${sql.param([...tickers])}::text[])
          and time >= ${from.toISOString()}::timestamptz and time <= ${to.toISOString()}::timestamptz
        order by stock_name, time`);
      for (const row of result.rows) {
        const s = series.get(row.stock_name);
        if (!s) continue;
        s.times.push(Number(row.ms));
        s.prices.push(Number(row.price));
      }
      return [...series.values()];
    },

    async countTicks(ticker) {
      const result = await db.execute<{ n: string }>(
        ticker === undefined
          ? sql`select count(*) as n from stock_prices`
          : sql`select count(*) as n from stock_prices where stock_name = ${ticker}`,
      );
      return Number(result.rows[0]?.n ?? 0);
    },
  };
}
