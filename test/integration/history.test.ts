import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { createTickRepository, type TickRepository } from '../../src/db/tick-repository.ts';
import { type Point, planColumns, summarizeColumns } from '../../src/domain/m4.ts';
import { hashString, mix, uniform } from '../../src/domain/random.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { createTestDatabase, silentLogger } from '../helpers/services.ts';

const START = Date.UTC(2026, 10, 20, 0, 0, 0);
const HOURS = 30;
const TICKERS = ['AAPL', 'INTC'];

/** A random walk with irregular 1–9 s gaps, repeated prices and occasional spikes: what M4 must not lose. */
function generate(ticker: string): Tick[] {
  const seed = hashString(ticker);
  const ticks: Tick[] = [];
  let price = 100;
  for (let t = START, i = 0; t < START + HOURS * 3_600_000; i++) {
    const u = uniform(mix(seed, i));
    if (u > 0.3) price = Math.max(1, Math.round((price + (u - 0.65) * 0.4) * 100) / 100);
    if (u > 0.999) price = Math.round(price * 1.05 * 100) / 100;
    ticks.push({ ticker, price, time: new Date(t) });
    t += 1000 + Math.floor(uniform(mix(seed, -i - 1)) * 8) * 1000;
  }
  return ticks;
}

describe('reduced history (M4 in SQL over raw ticks and the per-minute rollup)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let repo: TickRepository;
  const all = new Map<string, Point[]>();

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = createDatabase(database.url, silentLogger);
    repo = createTickRepository(handle.db);
    for (const ticker of TICKERS) {
      const ticks = generate(ticker);
      all.set(
        ticker,
        ticks.map((t) => ({ time: t.time.getTime(), price: t.price })),
      );
      // Out of order and with overlaps, as retries and several workers would write them.
      const chunks: Tick[][] = [];
      for (let i = 0; i < ticks.length; i += 2500) chunks.push(ticks.slice(i, i + 2600));
      for (const chunk of chunks.reverse()) await repo.insertTicks(chunk);
    }
    // Fold the first half only: the windows below then read some buckets from the rollup and the rest,
    // still in its log, from the ticks themselves, as a reader between two folds does.
    await repo.foldRollup(new Date(START + (HOURS / 2) * 3_600_000));
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  it.each([
    ['a whole day on a 1200 px chart (rollup)', START + 3_600_000 + 17_000, 24 * 3_600_000, 1200],
    ['30 hours on 300 px (rollup, 6-minute columns)', START, HOURS * 3_600_000, 300],
    [
      'a day from an odd minute (rollup, the first 2-minute column cut)',
      START + 3_677_000,
      20 * 3_600_000,
      1000,
    ],
    ['an hour on 1000 px (raw ticks)', START + 5 * 3_600_000 + 3_210, 3_600_000, 1000],
    ['ten minutes on 1280 px (raw, sparser than the pixels)', START + 7_200_000, 600_000, 1280],
  ])('draws the same pixels as every row: %s', async (_, fromMs, span, width) => {
    const from = new Date(fromMs);
    const to = new Date(fromMs + span);
    const series = await repo.history(TICKERS, from, to, width);
    const plan = planColumns(from.getTime(), to.getTime(), width);
    const windowEnd =
      plan.source === 'minute' ? Math.floor(to.getTime() / 60_000) * 60_000 + 60_000 : to.getTime() + 1;
    const windowStart = plan.startMs;

    for (const s of series) {
      expect(s.source).toBe(plan.source);
      expect(s.columnMs).toBe(plan.columnMs);
      const reduced = s.times.map((time, i) => ({ time, price: s.prices[i]! }));
      const every = all.get(s.ticker)!.filter((p) => p.time >= windowStart && p.time < windowEnd);
      const expected = summarizeColumns(every, plan);
      const actual = summarizeColumns(reduced, plan);
      expect(actual.length).toBe(expected.length);
      expect(reduced.length).toBeLessThanOrEqual(4 * expected.length);
      expect(reduced.length).toBeLessThan(every.length + 1);
      for (let i = 0; i < expected.length; i++) {
        const [a, e] = [actual[i]!, expected[i]!];
        expect(a.column).toBe(e.column);
        expect(a.first).toEqual(e.first);
        expect(a.last).toEqual(e.last);
        // Equal lows or highs may sit at different instants in one column; the pixels are the same.
        expect(a.min.price).toBe(e.min.price);
        expect(a.max.price).toBe(e.max.price);
      }
      expect([...s.times].sort((x, y) => x - y)).toEqual(s.times);
    }
  });

  it('answers an empty series for a ticker without rows, in the order asked', async () => {
    const series = await repo.history(['ZZZ', 'AAPL'], new Date(START), new Date(START + 3_600_000), 500);
    expect(series.map((s) => [s.ticker, s.times.length > 0])).toEqual([
      ['ZZZ', false],
      ['AAPL', true],
    ]);
  });

  it('reads buckets still in the rollup log from the ticks (the windows above crossed both)', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const log = await client.query(
        'select min(first_bucket) as first, count(*)::int as n from stock_prices_1m_pending',
      );
      expect(log.rows[0].n).toBeGreaterThan(0);
      expect(log.rows[0].first.getTime()).toBeGreaterThanOrEqual(START + (HOURS / 2 - 4) * 3_600_000);
      const folded = await client.query('select count(*)::int as n from stock_prices_1m');
      expect(folded.rows[0].n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it('keeps the rollup exactly equal to an aggregate of the raw ticks once folded', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      expect(await repo.foldRollup('all')).toBeGreaterThan(0);
      expect((await client.query('select count(*)::int as n from stock_prices_1m_pending')).rows[0].n).toBe(
        0,
      );
      const diff = await client.query(`
        with fresh as (
          select stock_name, date_bin('1 minute', time, timestamptz '2000-01-01Z') as bucket,
                 min(time) ft, max(time) lt, min(price) np, max(price) xp, count(*)::int n,
                 (array_agg(price order by time))[1] fp, (array_agg(price order by time desc))[1] lp
          from stock_prices group by 1, 2)
        select count(*)::int as mismatches from fresh f
        full join stock_prices_1m r using (stock_name, bucket)
        where r.stock_name is null or f.stock_name is null or (f.ft, f.fp, f.lt, f.lp, f.np, f.xp, f.n)
          is distinct from (r.first_time, r.first_price, r.last_time, r.last_price, r.min_price, r.max_price, r.count)`);
      expect(diff.rows[0].mismatches).toBe(0);
      const total = await client.query('select sum(count)::int as n from stock_prices_1m');
      expect(total.rows[0].n).toBe(TICKERS.reduce((n, t) => n + all.get(t)!.length, 0));
    } finally {
      await client.end();
    }
  });

  it('keeps the rollup exact through deletes and updates', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const mismatches = async () => {
      await repo.foldRollup('all');
      return (
        await client.query(`
          with fresh as (
            select stock_name, date_bin('1 minute', time, timestamptz '2000-01-01Z') as bucket,
                   min(time) ft, max(time) lt, min(price) np, max(price) xp, count(*)::int n,
                   (array_agg(price order by time))[1] fp, (array_agg(price order by time desc))[1] lp
            from stock_prices where stock_name like 'ZZ%' group by 1, 2),
          kept as (select * from stock_prices_1m where stock_name like 'ZZ%')
          select count(*)::int as n from fresh f full join kept r using (stock_name, bucket)
          where r.stock_name is null or f.stock_name is null or (f.ft, f.fp, f.lt, f.lp, f.np, f.xp, f.n)
            is distinct from (r.first_time, r.first_price, r.last_time, r.last_price, r.min_price, r.max_price, r.count)`)
      ).rows[0].n as number;
    };
    try {
      // Two tickers of their own, so the other tests' data stays as it is: a tick every 7 s for an hour.
      const start = START + 2 * 3_600_000;
      for (const ticker of ['ZZA', 'ZZB']) {
        await repo.insertTicks(
          Array.from({ length: 515 }, (_, i) => ({
            ticker,
            price: 100 + ((i * 37) % 23) - (i % 5 === 0 ? 9 : 0),
            time: new Date(start + i * 7_000),
          })),
        );
      }
      expect(await mismatches()).toBe(0);
      // Retention: the first ten minutes go, and the lowest tick of another minute.
      await client.query(`delete from stock_prices where stock_name like 'ZZ%' and time < $1`, [
        new Date(start + 600_000).toISOString(),
      ]);
      await client.query(
        `delete from stock_prices where (stock_name, time) = (
           select stock_name, time from stock_prices where stock_name = 'ZZA' and time >= $1 and time < $2
           order by price limit 1)`,
        [new Date(start + 1_200_000).toISOString(), new Date(start + 1_260_000).toISOString()],
      );
      expect(await mismatches()).toBe(0);
      // Corrections: a price raised to a new high, a tick moved to another ticker and minute.
      const raised = await client.query(
        `update stock_prices set price = price + 50 where stock_name = 'ZZB' and time = $1`,
        [new Date(start + 700 * 7_000 - 2_100_000).toISOString()],
      );
      const moved = await client.query(
        `update stock_prices set stock_name = 'ZZB', time = time + interval '3 seconds'
         where stock_name = 'ZZA' and time = $1`,
        [new Date(start + 300 * 7_000).toISOString()],
      );
      expect([raised.rowCount, moved.rowCount]).toEqual([1, 1]);
      expect(await mismatches()).toBe(0);
      const counted = await client.query(
        `select (select count(*)::int from stock_prices where stock_name like 'ZZ%') as raw,
                (select sum(count)::int from stock_prices_1m where stock_name like 'ZZ%') as rolled`,
      );
      expect(counted.rows[0].rolled).toBe(counted.rows[0].raw);
      expect(counted.rows[0].raw).toBeLessThan(2 * 515);
      await client.query(`delete from stock_prices where stock_name like 'ZZ%'`);
      await repo.foldRollup('all');
      expect(
        (await client.query(`select count(*)::int as n from stock_prices_1m where stock_name like 'ZZ%'`))
          .rows[0].n,
      ).toBe(0);
    } finally {
      await client.end();
    }
  });

  // Last: it empties the table the tests above read.
  it('empties the rollup with the ticks on a truncate', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      expect(
        (await client.query('select count(*)::int as n from stock_prices_1m')).rows[0].n,
      ).toBeGreaterThan(0);
      await client.query(`delete from stock_prices where stock_name = 'AAPL' and time < $1`, [
        new Date(START + 60_000).toISOString(),
      ]);
      expect((await client.query('select count(*)::int as n from stock_prices_1m_pending')).rows[0].n).toBe(
        1,
      );
      await client.query('truncate stock_prices');
      expect((await client.query('select count(*)::int as n from stock_prices_1m')).rows[0].n).toBe(0);
      expect((await client.query('select count(*)::int as n from stock_prices_1m_pending')).rows[0].n).toBe(
        0,
      );
    } finally {
      await client.end();
    }
  });
});
