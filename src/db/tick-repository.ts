import { sql } from 'drizzle-orm';
import {
  type ColumnPlan,
  type ColumnSummary,
  planColumns,
  pointsOfColumns,
  ROLLUP_ORIGIN_MS,
} from '../domain/m4.ts';
import type { Tick } from '../domain/tick.ts';
import type { Database } from './client.ts';
import { isMissingPartition } from './errors.ts';

/** 2000-01-01T00:00Z in seconds since the Unix epoch: the origin of the rollup's packed times. */
const Y2K_EPOCH_S = ROLLUP_ORIGIN_MS / 1000;

export interface PriceSeries {
  ticker: string;
  /** Milliseconds since the epoch, ascending; times[i] goes with prices[i]. */
  times: number[];
  prices: number[];
  /** Width of one M4 column in milliseconds, and what was reduced to answer. */
  columnMs: number;
  source: ColumnPlan['source'];
}

/** One reduced rollup column as Postgres returns it: bigints as text, float8 as numbers. */
type MinuteColumnRow = {
  stock_name: string;
  col: string;
  ft: string;
  fp: number;
  nt: string;
  np: number;
  xt: string;
  xp: number;
  lt: string;
  lp: number;
};

/** The end (exclusive) of the minute bucket holding `ms`: the rollup side of a window ending at `ms`. */
export function minuteEnd(ms: number): number {
  return Math.floor((ms - ROLLUP_ORIGIN_MS) / 60_000) * 60_000 + ROLLUP_ORIGIN_MS + 60_000;
}

export interface TickRepository {
  /**
   * Stores ticks in one set-based statement and returns only the rows that were new. Idempotent: a tick
   * whose (ticker, time) is already stored is skipped, so a retried job never doubles a row, and what it
   * returns is exactly what subscribers have not yet been told about.
   */
  insertTicks(ticks: readonly Tick[]): Promise<Tick[]>;
  /**
   * Prices per ticker over [from, to] for a chart `width` pixels wide, M4-reduced in SQL: at most four
   * points per pixel column (its first, last, lowest and highest), which draws the same line as every
   * row. Wide windows read the per-minute rollup; the window then snaps outward to whole minutes. One
   * series per requested ticker, in the order asked, empty when there are no rows.
   */
  history(tickers: readonly string[], from: Date, to: Date, width: number): Promise<PriceSeries[]>;
  /**
   * The M4 summary of every non-empty column of a rollup `plan`, per ticker, from the minute buckets that
   * start inside one of `ranges` ([start, end) in ms). Tickers without rows are absent; lists are sorted by
   * column. Prices are to the cent (the rollup's packing).
   */
  minuteColumns(
    tickers: readonly string[],
    plan: ColumnPlan,
    ranges: readonly (readonly [number, number])[],
  ): Promise<Map<string, ColumnSummary[]>>;
  countTicks(ticker?: string): Promise<number>;
  /**
   * Makes sure every UTC day these ticks fall on has its stock_prices partition, and returns the ticks that
   * may be stored: those at or after the retention horizon (an older one would land in a day already
   * dropped, and the minute rollup is the record there). Writers call it before a bulk load, and
   * `insertTicks` on meeting a missing day.
   */
  makeRoom(ticks: readonly Tick[]): Promise<Tick[]>;
  /** Where raw ticks begin: before this instant history comes from the minute rollup only. */
  rawHorizon(): Promise<Date | undefined>;
  /**
   * Stored ticks with a time after `after`, oldest first, at most `limit`: what an API process replays to
   * its streams when its pub/sub subscription was away (src/server/api.ts).
   */
  ticksAfter(after: Date, limit: number): Promise<Tick[]>;
  /**
   * Rebuilds the rollup buckets that writes logged, for every log row whose last minute ended before
   * `settledBefore` (default: the database's clock less ROLLUP_GRACE_S, so a minute's late ticks are
   * usually in before it is folded), and compacts the rest (drizzle/0006_*). Returns how many tickers
   * were rebuilt, or undefined when another process is folding right now. `'all'` folds the whole log.
   */
  foldRollup(settledBefore?: Date | 'all'): Promise<number | undefined>;
  /** The rollup's log: how many rows, and the first minute the oldest names (for /metrics; a stalled fold shows). */
  rollupBacklog(): Promise<{ rows: number; oldestBucket?: Date }>;
}

/** How long after a minute ends its buckets wait to be folded: a late tick after that costs one more fold. */
const ROLLUP_GRACE_S = 10;

export function createTickRepository(db: Database): TickRepository {
  /**
   * Runs a reducing query with memory for a hash aggregate. The planner guesses about one group per row
   * for a column expression (~125k for ~7k real on 7 days) and, with the default work_mem, would sort them
   * all on disk instead; enough memory halves the time (ARCHITECTURE.md).
   */
  const withAggregateMemory = <T>(
    query: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<T>,
  ) =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set local work_mem = '64MB'`);
      return query(tx);
    });

  const minuteColumns: TickRepository['minuteColumns'] = async (tickers, plan, ranges) => {
    const columns = new Map<string, ColumnSummary[]>();
    const wanted = ranges.filter(([start, end]) => end > start);
    if (tickers.length === 0 || wanted.length === 0) return columns;
    const inRanges = sql.join(
      wanted.map(
        ([start, end]) =>
          sql`(bucket >= ${new Date(start).toISOString()}::timestamptz and bucket < ${new Date(end).toISOString()}::timestamptz)`,
      ),
      sql` or `,
    );
    const from = new Date(Math.min(...wanted.map(([start]) => start))).toISOString();
    const to = new Date(Math.max(...wanted.map(([, end]) => end))).toISOString();
    const names = sql.param([...tickers]);
    // The rollup's points are pre-packed into bigints (seconds since 2000 and cents; see schema.ts), so a
    // column is a plain integer min()/max() over its buckets, and its index an integer division of the
    // first point's seconds: every bucket of a column has its first tick inside that column. Buckets that
    // writes have logged but no fold has rebuilt yet (`stale`, one span per ticker) come from the ticks
    // themselves, packed the same way; min and max do not mind a tick met twice where spans overlap.
    const originS = (plan.originMs - ROLLUP_ORIGIN_MS) / 1000;
    const columnS = plan.columnMs / 1000;
    const rows = await withAggregateMemory(async (tx) => {
      const result = await tx.execute<MinuteColumnRow>(sql`
        with stale as (
          -- Clamped to the raw horizon: before it the rollup is the only record, whatever the log says.
          select name as stock_name,
                 greatest(min(first_bucket), coalesce(min(horizon), '-infinity')) as first_bucket,
                 max(last_bucket) as last_bucket
          from stock_prices_1m_pending, unnest(stock_names) as name, stock_prices_retention
          where stock_names && ${names}::text[] and name = any(${names}::text[])
            and last_bucket >= ${from}::timestamptz - interval '1 minute' and first_bucket < ${to}::timestamptz
          group by name
        ),
        points as (
          select r.stock_name, r.bucket, r.packed_first as pf, r.packed_last as pl, r.packed_min as pn,
                 r.packed_max as px
          from stock_prices_1m as r
          left join stale as s
            on s.stock_name = r.stock_name and r.bucket >= s.first_bucket and r.bucket <= s.last_bucket
          where r.stock_name = any(${names}::text[]) and s.stock_name is null
          union all
          select stock_name, bucket, secs << 31 | cents, secs << 31 | cents, cents << 32 | secs,
                 cents << 32 | (4294967295 - secs)
          from (
            select p.stock_name, date_bin('1 minute', p.time, timestamptz '2000-01-01Z') as bucket,
                   floor(extract(epoch from p.time - timestamptz '2000-01-01Z'))::bigint as secs,
                   round(p.price * 100)::bigint as cents
            from stale as s
            join stock_prices as p
              on p.stock_name = s.stock_name and p.time >= s.first_bucket
                 and p.time < s.last_bucket + interval '1 minute'
            where p.time >= ${from}::timestamptz and p.time < ${to}::timestamptz
          ) as ticks
        )
        select stock_name, col,
               ((f >> 31) + ${Y2K_EPOCH_S}) * 1000 as ft, (f & 2147483647) / 100.0::float8 as fp,
               ((n & 4294967295) + ${Y2K_EPOCH_S}) * 1000 as nt, (n >> 32) / 100.0::float8 as np,
               (4294967295 - (x & 4294967295) + ${Y2K_EPOCH_S}) * 1000 as xt, (x >> 32) / 100.0::float8 as xp,
               ((l >> 31) + ${Y2K_EPOCH_S}) * 1000 as lt, (l & 2147483647) / 100.0::float8 as lp
        from (
          select stock_name, ((pf >> 31) - ${originS}::bigint) / ${columnS}::bigint as col,
                 min(pf) as f, max(pl) as l, min(pn) as n, max(px) as x
          from points
          where ${inRanges}
          group by 1, 2
        ) as reduced`);
      return result.rows;
    });
    for (const row of rows) {
      const list = columns.get(row.stock_name) ?? [];
      if (list.length === 0) columns.set(row.stock_name, list);
      list.push({
        column: Number(row.col),
        first: { time: Number(row.ft), price: Number(row.fp) },
        min: { time: Number(row.nt), price: Number(row.np) },
        max: { time: Number(row.xt), price: Number(row.xp) },
        last: { time: Number(row.lt), price: Number(row.lp) },
      });
    }
    for (const list of columns.values()) list.sort((a, b) => a.column - b.column);
    return columns;
  };

  const insertNew = async (ticks: readonly Tick[]): Promise<Tick[]> => {
    if (ticks.length === 0) return [];
    // unnest over three bound arrays: one round trip and one plan for any batch size, and ~4x faster than
    // a multi-row VALUES list (measured on this machine, see ARCHITECTURE.md).
    const result = await db.execute<{ stock_name: string; ms: number }>(sql`
      insert into stock_prices (stock_name, price, time)
      select * from unnest(
        ${sql.param(ticks.map((t) => t.ticker))}::text[],
        ${sql.param(ticks.map((t) => String(t.price)))}::numeric[],
        ${sql.param(ticks.map((t) => t.time.toISOString()))}::timestamptz[]
      )
      on conflict (stock_name, time) do nothing
      returning stock_name, (extract(epoch from time) * 1000)::float8 as ms`);
    // The rows come back as keys only, and are matched to the ticks passed in: cheaper than sending every
    // price and time back as text to be parsed again. Where a batch repeats a key, its first tick is the
    // one stored.
    const byKey = new Map<string, Tick>();
    for (const tick of ticks) {
      const key = `${tick.ticker}\u0000${tick.time.getTime()}`;
      if (!byKey.has(key)) byKey.set(key, tick);
    }
    return result.rows.map((row) => byKey.get(`${row.stock_name}\u0000${row.ms}`)!);
  };

  const rawHorizon = async (): Promise<Date | undefined> => {
    const result = await db.execute<{ horizon: Date | string | null }>(
      sql`select horizon from stock_prices_retention`,
    );
    const horizon = result.rows[0]?.horizon;
    return horizon ? new Date(horizon) : undefined;
  };

  const makeRoom = async (ticks: readonly Tick[]): Promise<Tick[]> => {
    if (ticks.length === 0) return [];
    let first = ticks[0]!.time;
    let last = first;
    for (const { time } of ticks) {
      if (time < first) first = time;
      if (time > last) last = time;
    }
    // -Infinity when nothing was ever dropped (float8 carries it; node-postgres parses it).
    const result = await db.execute<{ since: number }>(
      sql`select extract(epoch from stock_prices_add_partitions(
            (${first.toISOString()}::timestamptz at time zone 'UTC')::date,
            (${last.toISOString()}::timestamptz at time zone 'UTC')::date))::float8 * 1000 as since`,
    );
    const since = Number(result.rows[0]?.since ?? Number.NEGATIVE_INFINITY);
    return ticks.filter((tick) => tick.time.getTime() >= since);
  };

  return {
    async foldRollup(settledBefore) {
      const until =
        settledBefore === 'all'
          ? sql`'infinity'::timestamptz`
          : settledBefore
            ? sql`${settledBefore.toISOString()}::timestamptz`
            : sql`now() - make_interval(secs => ${ROLLUP_GRACE_S})`;
      const result = await db.execute<{ n: number | null }>(sql`select stock_prices_1m_fold(${until}) as n`);
      return result.rows[0]?.n ?? undefined;
    },

    async rollupBacklog() {
      const result = await db.execute<{ n: string; oldest: string | null }>(
        sql`select count(*) as n, min(first_bucket) as oldest from stock_prices_1m_pending`,
      );
      const row = result.rows[0];
      return { rows: Number(row?.n ?? 0), oldestBucket: row?.oldest ? new Date(row.oldest) : undefined };
    },

    async insertTicks(ticks) {
      try {
        return await insertNew(ticks);
      } catch (error) {
        // A tick stamped on a day without a partition (a backfill or repair reaching back, a clock far
        // ahead): the day is made, or the tick refused when it is behind the horizon, and the write retried.
        if (!isMissingPartition(error)) throw error;
        return insertNew(await makeRoom(ticks));
      }
    },

    makeRoom,

    rawHorizon,

    async history(tickers, from, to, width) {
      if (tickers.length === 0) return [];
      let plan = planColumns(from.getTime(), to.getTime(), width);
      if (plan.source === 'raw') {
        // Only narrow windows can read raw ticks, so only they ask where those begin.
        const horizon = await rawHorizon();
        if (horizon) plan = planColumns(from.getTime(), to.getTime(), width, horizon.getTime());
      }
      const series = (ticker: string, line: { times: number[]; prices: number[] } | undefined) => ({
        ticker,
        times: line?.times ?? [],
        prices: line?.prices ?? [],
        columnMs: plan.columnMs,
        source: plan.source,
      });
      if (plan.source === 'minute') {
        const columns = await minuteColumns(tickers, plan, [[plan.startMs, minuteEnd(to.getTime())]]);
        return tickers.map((ticker) => {
          const summaries = columns.get(ticker);
          return series(ticker, summaries && pointsOfColumns(summaries));
        });
      }
      const origin = new Date(plan.originMs).toISOString();
      const rows = await withAggregateMemory(async (tx) => {
        // Raw ticks keep full precision: (time, price) pairs as float8 arrays, compared element-wise, so a
        // plain min()/max() picks each column's first, last, lowest and highest point in one hash aggregate.
        const result = await tx.execute<{ stock_name: string; times: number[]; prices: number[] }>(sql`
          with columns as (
            select stock_name,
                   min(array[date_part('epoch', time), price::float8]) as f,
                   max(array[date_part('epoch', time), price::float8]) as l,
                   min(array[price::float8, date_part('epoch', time)]) as n,
                   max(array[price::float8, -date_part('epoch', time)]) as x
            from stock_prices
            where stock_name = any(${sql.param([...tickers])}::text[])
              and time >= ${from.toISOString()}::timestamptz and time <= ${to.toISOString()}::timestamptz
            group by stock_name,
                     date_bin(${`${plan.columnMs / 1000} seconds`}::interval, time, ${origin}::timestamptz)
          ),
          points as (
            select distinct stock_name, t, p
            from columns, lateral (values (f[1], f[2]), (n[2], n[1]), (-x[2], x[1]), (l[1], l[2])) as v(t, p)
          )
          select stock_name, array_agg(round(t * 1000)::float8 order by t) as times,
                 array_agg(p::float8 order by t) as prices
          from points
          group by stock_name`);
        return result.rows;
      });
      const byTicker = new Map(rows.map((row) => [row.stock_name, row]));
      return tickers.map((ticker) => {
        const row = byTicker.get(ticker);
        return series(ticker, row && { times: row.times.map(Number), prices: row.prices.map(Number) });
      });
    },

    minuteColumns,

    async ticksAfter(after, limit) {
      const result = await db.execute<{ ticker: string; price: string; time: Date | string }>(
        sql`select stock_name as ticker, price::text as price, time from stock_prices
            where time > ${after.toISOString()} order by time, stock_name limit ${limit}`,
      );
      return result.rows.map((row) => ({
        ticker: row.ticker,
        price: Number(row.price),
        time: new Date(row.time),
      }));
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
