import { QueueEvents } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_QUEUE } from '../../jobs/queues.ts';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { createHistoryStore } from '../../src/db/history-store.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { createTickPartitions, PARTITION_DAYS_AHEAD } from '../../src/db/tick-partitions.ts';
import { createTickRepository } from '../../src/db/tick-repository.ts';
import type { Tick } from '../../src/domain/tick.ts';
import { graphqlOk, startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, migrateBefore, silentLogger } from '../helpers/services.ts';

const DAY_MS = 86_400_000;
const today = () => Math.floor(Date.now() / DAY_MS) * DAY_MS;
const dayName = (ms: number) =>
  `stock_prices_p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;

/** `count` ticks of `ticker` every 5 s from `startMs`. */
function ticksFrom(ticker: string, startMs: number, count: number, base = 100): Tick[] {
  return Array.from({ length: count }, (_, i) => ({
    ticker,
    price: base + (i % 7) * 0.25,
    time: new Date(startMs + i * 5000),
  }));
}

async function partitionNames(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
     where i.inhparent = 'stock_prices'::regclass order by 1`,
  );
  return result.rows.map((row) => row.name);
}

describe('retention: stock_prices partitioned by day', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = createDatabase(database.url, silentLogger);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await handle?.close();
    await database?.drop();
  });

  it('stores a backfill into a day without a partition, and leaves out what lies behind the horizon', async () => {
    const ticks = createTickRepository(handle.db);
    const history = createHistoryStore(handle, ticks);
    const longAgo = today() - 60 * DAY_MS + 3_600_000;
    expect(await partitionNames(client)).not.toContain(dayName(longAgo));
    // COPY (a backfill) and the price insert (a repair) alike: the day is made on the way.
    expect(await history.storeTicks(ticksFrom('FILL', longAgo, 100))).toEqual({ stored: 100, via: 'copy' });
    expect(await ticks.insertTicks(ticksFrom('LIVE', longAgo - DAY_MS, 10))).toHaveLength(10);
    expect(await partitionNames(client)).toEqual(
      expect.arrayContaining([dayName(longAgo), dayName(longAgo - DAY_MS)]),
    );
    // A far future day too (a clock ahead): no write meets "no partition of relation".
    expect(await ticks.insertTicks(ticksFrom('AHEAD', today() + 40 * DAY_MS, 3))).toHaveLength(3);

    // Now keep 3 days: the old days go, and a fill reaching behind the horizon stores only its newer part.
    const partitions = createTickPartitions(handle.db);
    const report = await partitions.maintain({ now: new Date(), retainDays: 3 });
    expect(report.horizon).toEqual(new Date(today() - 3 * DAY_MS));
    expect(report.dropped).toEqual(expect.arrayContaining([new Date(longAgo).toISOString().slice(0, 10)]));
    const straddling = ticksFrom('CLIP', today() - 3 * DAY_MS - 50_000, 20);
    expect(await history.storeTicks(straddling)).toEqual({ stored: 10, via: 'copy' });
    expect(await ticks.insertTicks(ticksFrom('CLIP2', today() - 10 * DAY_MS, 5))).toEqual([]);
    const stored = await client.query(
      `select min(time) as first from stock_prices where stock_name = 'CLIP'`,
    );
    expect(new Date(stored.rows[0].first).getTime()).toBe(today() - 3 * DAY_MS);
  });

  it('keeps the days ahead made, and drops every day behind the horizon and none after it', async () => {
    const partitions = createTickPartitions(handle.db);
    const report = await partitions.maintain({ now: new Date(), retainDays: 3 });
    const names = await partitionNames(client);
    for (let day = -3; day <= PARTITION_DAYS_AHEAD; day++)
      expect(names).toContain(dayName(today() + day * DAY_MS));
    expect(names.filter((name) => name < dayName(today() - 3 * DAY_MS))).toEqual([]);
    expect(report.partitions).toBe(names.length);
    expect(await partitions.stats()).toEqual({
      partitions: names.length,
      oldestDay: new Date(today() - 3 * DAY_MS),
    });
    // Keeping more days later does not bring the horizon back: those ticks are gone.
    const wider = await partitions.maintain({ now: new Date(), retainDays: 30 });
    expect(wider.horizon).toEqual(new Date(today() - 3 * DAY_MS));
    // The classic's name still reads every retained day.
    const read = await client.query(`select count(*)::int as n from stock_prices where stock_name = 'CLIP'`);
    expect(read.rows[0].n).toBe(10);
  });

  it('converts a populated unpartitioned table: every row and the rollup survive', async () => {
    const older = await createTestDatabase({ migrate: false });
    const old = new pg.Client({ connectionString: older.url });
    await old.connect();
    try {
      await migrateBefore(old, 'stock_prices_partitions');
      // 45 days of three tickers (older than the month the migration makes ahead of time), folded.
      await old.query(`
        insert into stock_prices
        select 'T' || i, 10 + i + (j % 5) * 0.5, now() - make_interval(mins => j * 37)
        from generate_series(1, 3) as i, generate_series(0, 45 * 24 * 60 / 37) as j`);
      await old.query(`select stock_prices_1m_fold('infinity')`);
      const before = await old.query(
        `select (select count(*)::int from stock_prices) as rows,
                (select sum(count)::int from stock_prices_1m) as rolled,
                (select md5(string_agg(stock_name || price || time, ',' order by stock_name, time)) from stock_prices) as digest`,
      );

      await runMigrations(older.url);
      const after = await old.query(
        `select (select count(*)::int from stock_prices) as rows,
                (select sum(count)::int from stock_prices_1m) as rolled,
                (select md5(string_agg(stock_name || price || time, ',' order by stock_name, time)) from stock_prices) as digest,
                (select relkind from pg_class where relname = 'stock_prices') as kind,
                (select count(*)::int from stock_prices_1m_pending) as logged`,
      );
      expect(after.rows[0]).toEqual({ ...before.rows[0], kind: 'p', logged: 0 });
      expect((await partitionNames(old)).length).toBeGreaterThanOrEqual(46 + 7);
    } finally {
      await old.end();
      await older.drop();
    }
  });
});

describe('retention: the maintenance job, the rollup and the chart across the horizon', () => {
  // The app starts ten days back, writes a day then, and is moved to now: the hourly job drops that day.
  const startMs = Math.floor(Date.now() / 1000) * 1000 - 10 * DAY_MS;
  const oldDay = Math.floor(startMs / DAY_MS) * DAY_MS - DAY_MS;
  const noon = oldDay + 12 * 3_600_000;
  let app: TestApp;
  let client: pg.Client;
  let events: QueueEvents;

  beforeAll(async () => {
    app = await startTestApp({ start: new Date(startMs), env: { RETAIN_TICKS_DAYS: '3' } });
    client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    events = new QueueEvents(MAINTENANCE_QUEUE, {
      connection: app.deps.createRedis('test-maintenance-events'),
      prefix: app.prefix,
    });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events?.close();
    await client?.end();
    await app?.stop();
  });

  const runMaintenance = async () => {
    const job = await app.workers!.queues.maintenance.add(MAINTENANCE_QUEUE, {});
    return job.waitUntilFinished(events, 30_000);
  };
  const rollupOf = async (ticker: string) =>
    (
      await client.query(
        `select bucket, first_time, first_price, last_time, last_price, min_price, max_price, count
         from stock_prices_1m where stock_name = $1 order by bucket`,
        [ticker],
      )
    ).rows;

  it('has its hourly scheduler, shown in Bull Board', async () => {
    const scheduler = await app.workers!.queues.maintenance.getJobScheduler('maintenance-hourly');
    expect(scheduler?.every).toBe(3_600_000);
  });

  it('drops the day behind RETAIN_TICKS_DAYS; the fold keeps its rollup, and priceHistory draws it from there', async () => {
    await app.deps.ticks.insertTicks(ticksFrom('OLD', noon, 120));
    await app.deps.ticks.foldRollup('all');
    const rolled = await rollupOf('OLD');
    expect(rolled).toHaveLength(10);
    // A write whose logged span reaches from that day to today: unfolded when the day is dropped.
    await app.deps.ticks.insertTicks([
      { ticker: 'OLD', price: 90, time: new Date(noon + 2500) },
      { ticker: 'OLD', price: 91, time: new Date(Date.now() - 60_000) },
    ]);

    app.clock.set(new Date());
    const report = (await runMaintenance()) as { dropped: string[]; horizon: string };
    expect(report.dropped).toContain(new Date(oldDay).toISOString().slice(0, 10));
    expect(new Date(report.horizon).getTime()).toBe(today() - 3 * DAY_MS);
    expect(await partitionNames(client)).not.toContain(dayName(oldDay));
    const raw = await client.query(`select count(*)::int as n from stock_prices where time < $1`, [
      new Date(today() - 3 * DAY_MS),
    ]);
    expect(raw.rows[0].n).toBe(0);

    // Readers before the fold: the logged span over the dropped day is taken from the rollup.
    const query = `{ priceHistory(tickers: ["OLD"], from: "${new Date(noon).toISOString()}", to: "${new Date(noon + 600_000).toISOString()}", width: 400) { times prices source } }`;
    const beforeFold = await graphqlOk<{ priceHistory: { times: number[]; source: string }[] }>(app, query);
    expect(beforeFold.priceHistory[0]!.source).toBe('MINUTE');
    expect(beforeFold.priceHistory[0]!.times.length).toBeGreaterThanOrEqual(10);

    await app.deps.ticks.foldRollup('all');
    const kept = await rollupOf('OLD');
    expect(kept.slice(0, 10)).toEqual(rolled);
    const afterFold = await graphqlOk<{
      priceHistory: { times: number[]; prices: number[]; source: string }[];
    }>(app, query);
    expect(afterFold.priceHistory[0]).toEqual(beforeFold.priceHistory[0]);
    expect(afterFold.priceHistory[0]!.times[0]).toBe(noon);
    expect(afterFold.priceHistory[0]!.times.at(-1)).toBe(noon + 119 * 5000);
  });
});
