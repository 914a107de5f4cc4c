import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from './client.ts';

/** The last price stored for a ticker at or before an instant, and whether it was observed or a bar's. */
export interface StoredClose {
  price: number;
  /** A tick's time, or when the bar ends. */
  time: Date;
  source: 'tick' | 'bar';
}

/**
 * How far back a close is looked for: past a long weekend, so a ticker whose feed stopped for a day still
 * has one, but not so far that a stale price passes for a close.
 */
const LOOKBACK = '7 days';

/**
 * Each ticker's last stored price at or before `at` (a session's close): the newer of its last observed
 * tick and the last provider bar that ended by then; a tick wins a tie. One index probe per ticker and
 * table (the primary keys lead with the ticker, then the time), however much history there is. Tickers
 * with neither in the week before are absent.
 */
export async function readCloses(
  { db }: Pick<DatabaseHandle, 'db'>,
  tickers: readonly string[],
  at: Date,
): Promise<Map<string, StoredClose>> {
  if (tickers.length === 0) return new Map();
  const result = await db.execute<{
    stock_name: string;
    price: string | null;
    time: string | null;
    close: string | null;
    ends: string | null;
  }>(sql`
    select t.name as stock_name, p.price, p.time, b.close, b.ends
    from unnest(${sql.param([...tickers])}::text[]) as t(name)
    left join lateral (
      select price, time from stock_prices
      where stock_name = t.name and time <= ${at.toISOString()}::timestamptz
        and time > ${at.toISOString()}::timestamptz - ${LOOKBACK}::interval
      order by time desc limit 1
    ) p on true
    left join lateral (
      select close, start + interval_s * interval '1 second' as ends from stock_bars
      where stock_name = t.name and start < ${at.toISOString()}::timestamptz
        and start > ${at.toISOString()}::timestamptz - ${LOOKBACK}::interval
        and start + interval_s * interval '1 second' <= ${at.toISOString()}::timestamptz
      order by start desc limit 1
    ) b on true`);
  const closes = new Map<string, StoredClose>();
  for (const row of result.rows) {
    const tick =
      row.price !== null && row.time !== null
        ? { price: Number(row.price), time: new Date(row.time) }
        : undefined;
    const bar =
      row.close !== null && row.ends !== null
        ? { price: Number(row.close), time: new Date(row.ends) }
        : undefined;
    if (tick && (!bar || tick.time.getTime() >= bar.time.getTime()))
      closes.set(row.stock_name, { ...tick, source: 'tick' });
    else if (bar) closes.set(row.stock_name, { ...bar, source: 'bar' });
  }
  return closes;
}
