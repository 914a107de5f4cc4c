import { get } from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { loadConfig } from '../../src/config.ts';
import { exportStatement } from '../../src/db/price-export.ts';
import { DEFAULT_SYMBOLS } from '../../src/domain/symbols.ts';
import { startRole } from '../../src/start.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';
import { type Bench, bytes, median, ms } from './harness.ts';

const TICKERS = [...DEFAULT_SYMBOLS];
const DAY = 86_400_000;
const RUNS = 3;

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

/**
 * X1: `/export/prices.csv` for every tick of 1 and 7 days of six tickers at 5 s (~104k and ~726k rows),
 * through Koa and the admission checks, against the same COPY run by a bare pg client in the same run.
 * Memory is this process's RSS growth while it downloads (the API runs in it): the same for both sizes
 * is what "constant memory" means.
 */
export const exportBench: Bench = {
  id: 'X1',
  title: '/export/prices.csv: every tick of a week of six tickers, streamed',
  async run() {
    const database = await createTestDatabase();
    const prefix = uniqueName('bench');
    const to = new Date(Math.floor(Date.now() / 1000) * 1000);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query(
        `insert into stock_prices (stock_name, price, time)
         select ticker, round((100 + 20 * sin(extract(epoch from time) / 3600))::numeric, 2), time
         from unnest($1::text[]) as ticker,
              generate_series($2::timestamptz, $3::timestamptz, interval '5 seconds') as time`,
        [TICKERS, new Date(to.getTime() - 7 * DAY).toISOString(), to.toISOString()],
      );
      await admin.query('analyze stock_prices');
      const config = loadConfig(testEnv(database.url, prefix, { SYMBOLS: TICKERS.join(',') }));
      const app = await startRole('api', config, { logger: silentLogger });
      try {
        const measureDays = async (days: number) => {
          const request = {
            tickers: TICKERS,
            from: new Date(to.getTime() - days * DAY),
            to,
            interval: 'tick' as const,
          };
          const url = `${app.url}/export/prices.csv?tickers=${TICKERS.join(',')}&interval=tick&from=${request.from.toISOString()}&to=${to.toISOString()}`;
          const http: number[] = [];
          let last = { bytes: 0, rssGrowth: 0 };
          const growth: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            const started = performance.now();
            last = await download(url);
            http.push(performance.now() - started);
            growth.push(last.rssGrowth);
          }
          const copy: number[] = [];
          for (let i = 0; i < RUNS; i++) {
            const started = performance.now();
            const stream = admin.query(copyTo(exportStatement(request, (v) => admin.escapeLiteral(v))));
            await pipeline(stream, new Writable({ write: (_chunk, _enc, done) => done() }));
            copy.push(performance.now() - started);
          }
          const rows = Number(
            (
              await admin.query('select count(*) from stock_prices where time >= $1 and time < $2', [
                request.from.toISOString(),
                to.toISOString(),
              ])
            ).rows[0].count,
          );
          return { rows, http: median(http), copy: median(copy), bytes: last.bytes, growth: median(growth) };
        };
        const day = await measureDays(1);
        const week = await measureDays(7);
        const rate = (rows: number, time: number) =>
          `${Math.round(rows / (time / 1000)).toLocaleString('en-US')} rows/s`;
        return [
          {
            id: 'X1',
            measure: '/export/prices.csv, every tick of 7 days × 6 tickers (HTTP, admission, COPY TO STDOUT)',
            figure: `${ms(week.http)} for ${week.rows.toLocaleString('en-US')} rows, ${bytes(week.bytes)} (${rate(week.rows, week.http)}); RSS +${bytes(week.growth)} (1 day: +${bytes(day.growth)})`,
            baseline: `the same COPY by a bare pg client ${ms(week.copy)} (${rate(week.rows, week.copy)})`,
            ratio: week.copy / week.http,
            target: '≥ 50 % of bare COPY; RSS growth for 7 days ≤ 2× that for 1 day',
            met: week.copy / week.http >= 0.5 && week.growth <= 2 * Math.max(day.growth, 4 * 1_048_576),
            note: `medians of ${RUNS}; the API runs in the bench's process, so RSS growth includes the downloading client (which keeps nothing); 1 day: ${ms(day.http)} for ${day.rows.toLocaleString('en-US')} rows against COPY ${ms(day.copy)}`,
          },
        ];
      } finally {
        await app.close();
      }
    } finally {
      await admin.end();
      await removeRedisPrefix(prefix);
      await database.drop();
    }
  },
};
