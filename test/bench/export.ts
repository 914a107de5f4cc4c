import { get } from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { loadConfig } from '../../src/config.ts';
import { exportStatement } from '../../src/db/price-export.ts';
import type { PriceExport } from '../../src/domain/price-export.ts';
import { retentionHorizon } from '../../src/domain/retention.ts';
import { DEFAULT_SYMBOLS } from '../../src/domain/symbols.ts';
import { startRole } from '../../src/start.ts';
import {
  createTestDatabase,
  foldWholeLog,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';
import { type Bench, type BenchRow, bytes, median, ms } from './harness.ts';

const TICKERS = [...DEFAULT_SYMBOLS];
const DAY = 86_400_000;
const RUNS = 3;
/** The year's ticker, and how many days it holds: a year of ticks around the clock at the 5 s step. */
const YEAR_TICKER = 'AAPL';
const YEAR_DAYS = 365;
/** The year is seeded this many days per statement, each followed by a fold of the rollup's log. */
const SEED_CHUNK_DAYS = 30;
/** RETAIN_TICKS_DAYS' default (src/config.ts): the raw ticks an install keeps unless told otherwise. */
const DEFAULT_RETAIN_DAYS = 30;

/** Downloads `url`, counting bytes; resolves the byte count and the peak RSS growth of this process meanwhile. */
function download(url: string): Promise<{ bytes: number; rssGrowth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      res.on('end', () => {
        clearInterval(sampler);
        resolve({ bytes: received, rssGrowth: Math.max(peak, process.memoryUsage().rss) - before });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

interface Measured {
  rows: number;
  /** Median wall time of the HTTP download, and of the same COPY by a bare pg client. */
  http: number;
  copy: number;
  bytes: number;
  /** Median RSS growth of this process (which runs the API) during a download. */
  growth: number;
}

/**
 * Downloads `request` from the app's `/export/prices.csv` and runs its COPY on `admin` (a bare pg client,
 * discarding the bytes), in turn RUNS times; `rows` counts what the export holds.
 */
async function measureExport(
  appUrl: string,
  admin: pg.Client,
  request: PriceExport,
  rows: () => Promise<number>,
): Promise<Measured> {
  const url = `${appUrl}/export/prices.csv?tickers=${request.tickers.join(',')}&interval=${request.interval}&from=${request.from.toISOString()}&to=${request.to.toISOString()}`;
  const http: number[] = [];
  const growth: number[] = [];
  const copy: number[] = [];
  let last = { bytes: 0, rssGrowth: 0 };
  // Alternated, so that a change in the machine's load (shared cores) falls on both alike.
  for (let i = 0; i < RUNS; i++) {
    let started = performance.now();
    last = await download(url);
    http.push(performance.now() - started);
    growth.push(last.rssGrowth);
    started = performance.now();
    const stream = admin.query(copyTo(exportStatement(request, (v) => admin.escapeLiteral(v))));
    await pipeline(stream, new Writable({ write: (_chunk, _enc, done) => done() }));
    copy.push(performance.now() - started);
  }
  process.stderr.write(
    `X1 ${request.interval} ${request.tickers.length} × ${Math.round((request.to.getTime() - request.from.getTime()) / DAY)} days: HTTP ${http.map(ms).join(', ')}; COPY ${copy.map(ms).join(', ')}\n`,
  );
  return {
    rows: await rows(),
    http: median(http),
    copy: median(copy),
    bytes: last.bytes,
    growth: median(growth),
  };
}

/** The running API's base URL (only a role that serves HTTP has one). */
function appUrl(app: { url?: string }): string {
  if (!app.url) throw new Error('the api role did not report its URL');
  return app.url;
}

const count = (n: number) => n.toLocaleString('en-US');
const rate = (rows: number, time: number) => `${count(Math.round(rows / (time / 1000)))} rows/s`;
const seconds = (time: number) => `${(time / 1000).toFixed(1)} s`;

/** Ticks of `tickers` in [from, to): what a tick export of that window holds. */
async function countTicks(admin: pg.Client, tickers: readonly string[], from: Date, to: Date) {
  const result = await admin.query(
    'select count(*) from stock_prices where stock_name = any($1) and time >= $2 and time < $3',
    [tickers, from.toISOString(), to.toISOString()],
  );
  return Number(result.rows[0].count);
}

/**
 * Runs `use` on the api role over a fresh database that `seed` filled through `admin`, a bare pg client kept
 * open for the baselines; the database and the Redis prefix are removed afterwards.
 */
async function withSeededApi<T>(
  env: Record<string, string>,
  seed: (admin: pg.Client) => Promise<void>,
  use: (url: string, admin: pg.Client) => Promise<T>,
): Promise<T> {
  const database = await createTestDatabase();
  const prefix = uniqueName('bench');
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    await seed(admin);
    const config = loadConfig(testEnv(database.url, prefix, env));
    const app = await startRole('api', config, { logger: silentLogger });
    try {
      return await use(appUrl(app), admin);
    } finally {
      await app.close();
    }
  } finally {
    await admin.end();
    await removeRedisPrefix(prefix);
    await database.drop();
  }
}

/** 1 and 7 days of every tick of six tickers: memory that does not grow with the window is the point. */
function weekOfSixTickers(): Promise<{ row: BenchRow; dayGrowth: number }> {
  const to = new Date(Math.floor(Date.now() / 1000) * 1000);
  const seed = async (admin: pg.Client) => {
    await admin.query(
      `insert into stock_prices (stock_name, price, time)
       select ticker, round((100 + 20 * sin(extract(epoch from time) / 3600))::numeric, 2), time
       from unnest($1::text[]) as ticker,
            generate_series($2::timestamptz, $3::timestamptz, interval '5 seconds') as time`,
      [TICKERS, new Date(to.getTime() - 7 * DAY).toISOString(), to.toISOString()],
    );
    // Folded here, or the app's first fold (5 s after its start) rebuilds the week's rollup in Postgres
    // while the 1-day downloads are timed.
    await foldWholeLog(admin);
    await admin.query('analyze stock_prices');
  };
  return withSeededApi({ SYMBOLS: TICKERS.join(',') }, seed, async (url, admin) => {
    const measureDays = (days: number) => {
      const from = new Date(to.getTime() - days * DAY);
      const request = { tickers: TICKERS, from, to, interval: 'tick' as const };
      return measureExport(url, admin, request, () => countTicks(admin, TICKERS, from, to));
    };
    const day = await measureDays(1);
    const week = await measureDays(7);
    return {
      dayGrowth: day.growth,
      row: {
        id: 'X1',
        measure: '/export/prices.csv, every tick of 7 days × 6 tickers (HTTP, admission, COPY TO STDOUT)',
        figure: `${ms(week.http)} for ${count(week.rows)} rows, ${bytes(week.bytes)} (${rate(week.rows, week.http)}); RSS +${bytes(week.growth)} (1 day: +${bytes(day.growth)})`,
        baseline: `the same COPY by a bare pg client ${ms(week.copy)} (${rate(week.rows, week.copy)})`,
        ratio: week.copy / week.http,
        target: '≥ 50 % of bare COPY; RSS growth for 7 days ≤ 2× that for 1 day',
        met: week.copy / week.http >= 0.5 && week.growth <= 2 * Math.max(day.growth, 4 * 1_048_576),
        note: `medians of ${RUNS}; the API runs in the bench's process, so RSS growth includes the downloading client (which keeps nothing); 1 day: ${ms(day.http)} for ${count(day.rows)} rows against COPY ${ms(day.copy)}`,
      },
    };
  });
}

/**
 * Stores every 5 s of [from, to) for YEAR_TICKER by INSERT … SELECT in Postgres, a month per statement, each
 * folded into the rollup as the app's own fold would; resolves what it took, for the note.
 */
async function seedYear(admin: pg.Client, from: Date, to: Date): Promise<string> {
  const started = performance.now();
  // The migration makes the days from a month back; a year of ticks needs its days made first.
  await admin.query(
    `select stock_prices_add_partitions(($1::timestamptz at time zone 'UTC')::date,
                                        ($2::timestamptz at time zone 'UTC')::date)`,
    [from.toISOString(), to.toISOString()],
  );
  const partitionsMs = performance.now() - started;
  // Seeding only: a crash loses a bench database, which is dropped anyway.
  await admin.query('set synchronous_commit = off');
  let insertMs = 0;
  let foldMs = 0;
  for (let start = from.getTime(); start < to.getTime(); start += SEED_CHUNK_DAYS * DAY) {
    const end = Math.min(start + SEED_CHUNK_DAYS * DAY, to.getTime());
    let t = performance.now();
    // [start, end): the chunks meet without overlap; the last tick is the one at `to` − 5 s.
    await admin.query(
      `insert into stock_prices (stock_name, price, time)
       select $1, round((100 + 20 * sin(extract(epoch from time) / 3600))::numeric, 2), time
       from generate_series($2::timestamptz, $3::timestamptz - interval '5 seconds', interval '5 seconds') as time`,
      [YEAR_TICKER, new Date(start).toISOString(), new Date(end).toISOString()],
    );
    insertMs += performance.now() - t;
    t = performance.now();
    await foldWholeLog(admin);
    foldMs += performance.now() - t;
  }
  const t = performance.now();
  await admin.query('analyze stock_prices');
  await admin.query('analyze stock_prices_1m');
  const analyzeMs = performance.now() - t;
  const seeded = await countTicks(admin, [YEAR_TICKER], from, to);
  const took = `seeded in ${seconds(performance.now() - started)}: ${count(seeded)} ticks by INSERT … SELECT a month per statement ${seconds(insertMs)}, the rollup's fold after each ${seconds(foldMs)}, partitions for the year ${seconds(partitionsMs)}, analyze ${seconds(analyzeMs)}`;
  process.stderr.write(`X1 year: ${took}\n`);
  return took;
}

/**
 * A year of one ticker: 365 days at 5 s (~6.3 M ticks). Raw ticks that old exist only where
 * RETAIN_TICKS_DAYS is at least 365 (or `forever`), so the app runs so; with the default 30, a year is the
 * last 30–31 days of ticks and the minute rollup (kept for ever) for the rest, so the year is also
 * exported at interval=1m, and the default's raw window at interval=tick.
 */
async function yearOfOneTicker(weekDayGrowth: number): Promise<BenchRow[]> {
  const now = Date.now();
  const to = new Date(Math.floor(now / 1000) * 1000);
  const from = new Date(to.getTime() - YEAR_DAYS * DAY);
  let seeding = '';
  const env = { SYMBOLS: YEAR_TICKER, RETAIN_TICKS_DAYS: 'forever' };
  const seed = async (admin: pg.Client) => {
    seeding = await seedYear(admin, from, to);
  };
  return withSeededApi(env, seed, async (url, admin) => {
    const tickers = [YEAR_TICKER];
    const year = await measureExport(url, admin, { tickers, from, to, interval: 'tick' }, () =>
      countTicks(admin, tickers, from, to),
    );
    const horizon = retentionHorizon(new Date(now), DEFAULT_RETAIN_DAYS)!;
    const raw = await measureExport(url, admin, { tickers, from: horizon, to, interval: 'tick' }, () =>
      countTicks(admin, tickers, horizon, to),
    );
    const minutes = await measureExport(url, admin, { tickers, from, to, interval: '1m' }, async () => {
      // One candle per rollup minute at the 1 m stride; `from` is on a whole second, so its minute is binned in.
      const result = await admin.query(
        `select count(*) from stock_prices_1m
         where stock_name = $1 and bucket >= date_bin('1 minute', $2::timestamptz, timestamptz '2000-01-01')
           and bucket < $3`,
        [YEAR_TICKER, from.toISOString(), to.toISOString()],
      );
      return Number(result.rows[0].count);
    });
    const limit = 2 * Math.max(weekDayGrowth, 4 * 1_048_576);
    return [
      {
        id: 'X1',
        measure: `/export/prices.csv, every tick of a year (${YEAR_DAYS} days) of one ticker, as kept with RETAIN_TICKS_DAYS=forever`,
        figure: `${seconds(year.http)} for ${count(year.rows)} rows, ${bytes(year.bytes)} (${rate(year.rows, year.http)}); RSS +${bytes(year.growth)}`,
        baseline: `the same COPY by a bare pg client ${seconds(year.copy)} (${rate(year.rows, year.copy)})`,
        ratio: year.copy / year.http,
        target: '≥ 50 % of bare COPY; RSS growth ≤ 2× the 1-day export of 6 tickers',
        met: year.copy / year.http >= 0.5 && year.growth <= limit,
        note: `year: medians of ${RUNS}, one ticker, ${seeding}. With the default RETAIN_TICKS_DAYS=${DEFAULT_RETAIN_DAYS} the raw ticks are the days from ${horizon.toISOString().slice(0, 10)}: that window at interval=tick ${ms(raw.http)} for ${count(raw.rows)} rows, ${bytes(raw.bytes)} (${rate(raw.rows, raw.http)}), RSS +${bytes(raw.growth)}, against COPY ${ms(raw.copy)}`,
      },
      {
        id: 'X1',
        measure: `/export/prices.csv, the same year at interval=1m (OHLC candles from the minute rollup, kept for ever)`,
        figure: `${seconds(minutes.http)} for ${count(minutes.rows)} rows, ${bytes(minutes.bytes)} (${rate(minutes.rows, minutes.http)}); RSS +${bytes(minutes.growth)}`,
        baseline: `the same COPY by a bare pg client ${seconds(minutes.copy)} (${rate(minutes.rows, minutes.copy)})`,
        ratio: minutes.copy / minutes.http,
        target: '≥ 50 % of bare COPY; RSS growth ≤ 2× the 1-day export of 6 tickers',
        met: minutes.copy / minutes.http >= 0.5 && minutes.growth <= limit,
      },
    ];
  });
}

/**
 * X1: `/export/prices.csv` for every tick of 1 and 7 days of six tickers at 5 s (~104k and ~726k rows),
 * and for a year of one ticker (~6.3 M ticks, and the same year as minute candles), through Koa and the
 * admission checks, against the same COPY run by a bare pg client in the same run. Memory is this
 * process's RSS growth while it downloads (the API runs in it): the same for every size is what
 * "constant memory" means. `BENCH_X1_YEAR=0` leaves the year out (its seeding takes a minute or two).
 */
export const exportBench: Bench = {
  id: 'X1',
  title: '/export/prices.csv: every tick of a week of six tickers, and of a year of one, streamed',
  async run() {
    const week = await weekOfSixTickers();
    if (process.env.BENCH_X1_YEAR === '0') return [week.row];
    return [week.row, ...(await yearOfOneTicker(week.dayGrowth))];
  },
};
