import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { simulatedPricePath } from '../../src/domain/simulated-market.ts';
import { createHistoryProgress } from '../../src/history-progress.ts';
import { startRole } from '../../src/start.ts';
import {
  createTestDatabase,
  foldWholeLog,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';
import type { Bench, BenchRow } from './harness.ts';

const DAY_MS = 86_400_000;
const STEP_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A backfill through the app (worker start, plan, fill jobs, COPY or insert, the rollup folded) against one
 * COPY of as many rows of the same tickers (other instants, computed before the clock starts) into the same
 * table, its rollup folded too. Both in one database, one after the other.
 */
async function backfill(tickers: readonly string[], days: number) {
  const database = await createTestDatabase();
  const prefix = uniqueName('backfill');
  const now = Date.UTC(2026, 10, 20, 12);
  const config = loadConfig(
    testEnv(database.url, prefix, {
      SYMBOLS: tickers.join(','),
      PRICE_INTERVAL_MS: String(STEP_MS),
      LOGO_INTERVAL_MS: '3600000',
      HIGHLOW_INTERVAL_MS: '3600000',
      BACKFILL_DAYS: String(days),
    }),
  );
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const started = performance.now();
    const running = await startRole('worker', config, {
      clock: createManualClock(new Date(now)),
      logger: silentLogger,
    });
    const progress = createHistoryProgress(running.deps.redis, prefix);
    try {
      // Until the plan has run and every span it queued is stored.
      for (;;) {
        const { planned, done } = await progress.read();
        const counts = await running.workers!.queues.history.getJobCounts('waiting', 'active', 'prioritized');
        if (planned === done && Object.values(counts).every((n) => n === 0)) break;
        await sleep(20);
      }
      await foldWholeLog(client);
    } finally {
      await running.close();
    }
    const appMs = performance.now() - started;
    const rows = Number((await client.query('select count(*) as n from stock_prices')).rows[0].n);

    // The same number of rows of the same tickers, a month later, as COPY lines made up front (a month
    // earlier would lie behind the raw horizon the app's maintenance job set: RETAIN_TICKS_DAYS).
    const lines: string[] = [];
    const base = now + 30 * DAY_MS;
    for (const ticker of tickers) {
      const priceAt = simulatedPricePath('baseline', ticker);
      for (let t = base; t < base + days * DAY_MS; t += STEP_MS) {
        lines.push(`${ticker}\t${priceAt(new Date(t))}\t${new Date(t).toISOString()}\n`);
      }
    }
    // Further ahead than the days the migration and the maintenance job make (drizzle/0011_*).
    await client.query('select stock_prices_add_partitions($1::date, $2::date)', [
      new Date(base).toISOString().slice(0, 10),
      new Date(base + days * DAY_MS).toISOString().slice(0, 10),
    ]);
    const copyStarted = performance.now();
    await pipeline(
      Readable.from(lines),
      client.query(copyFrom('COPY stock_prices (stock_name, price, time) FROM STDIN')),
    );
    await foldWholeLog(client);
    const copyMs = performance.now() - copyStarted;
    return { appMs, rows, copyMs, copyRows: lines.length };
  } finally {
    await client.end();
    await removeRedisPrefix(prefix);
    await database.drop();
  }
}

const DEFAULT_TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];
const HUNDRED = Array.from({ length: 100 }, (_, i) => `S${String(i).padStart(3, '0')}`);

export const backfillBench: Bench = {
  id: 'P8',
  title: 'history backfill from the simulated market against one COPY of the same rows',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const [tickers, days, label] of [
      [DEFAULT_TICKERS, 7, '6 tickers × 7 days'],
      [HUNDRED, 1, '100 tickers × 1 day'],
    ] as const) {
      const result = await backfill(tickers, days);
      const appRate = result.rows / (result.appMs / 1000);
      const copyRate = result.copyRows / (result.copyMs / 1000);
      rows.push({
        id: 'P8',
        measure: `backfill at 5 s, ${label}: worker start → every span stored, rollup folded`,
        figure: `${(result.appMs / 1000).toFixed(2)} s for ${result.rows.toLocaleString('en')} ticks (${Math.round(appRate).toLocaleString('en')}/s)`,
        baseline: `one COPY of ${result.copyRows.toLocaleString('en')} rows + fold: ${(result.copyMs / 1000).toFixed(2)} s (${Math.round(copyRate).toLocaleString('en')}/s)`,
        ratio: appRate / copyRate,
        target: days === 7 ? '< 10 s and ≥ 50 % of COPY' : '≥ 50 % of COPY',
        met: appRate / copyRate >= 0.5 && (days !== 7 || result.appMs < 10_000),
      });
    }
    return rows;
  },
};
