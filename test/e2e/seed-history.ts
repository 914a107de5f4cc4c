/**
 * Fills a test database with days of price history before the page opens, so the browser tests look at a
 * chart with a real shape (and the range picker has something to pick from) instead of a minute of ticks.
 *
 * `seedSimulatedHistory` writes the simulated provider's own prices (same seed, same path), so the seeded
 * history and the ticks a price job stores later join into one continuous line. `seedRandomWalk` is for
 * volume: it generates the rows in Postgres (≈726k rows for 7 days × 6 tickers at 5 s in a few seconds).
 * Both go straight into `stock_prices` and fold the rollup's log before returning.
 */
import pg from 'pg';
import { simulatedPrice } from '../../src/domain/simulated-market.ts';
import { foldWholeLog } from '../helpers/services.ts';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

export interface SimulatedHistoryOptions {
  tickers: readonly string[];
  /** The newest row is at or before this instant (whole seconds). */
  end: Date;
  /** How far back the history reaches. */
  days: number;
  /** Spacing of the older rows (coarse, to keep seeding quick). */
  stepMs?: number;
  /** The last `fineHours` are at `fineStepMs`, like live 5-second ticks. */
  fineHours?: number;
  fineStepMs?: number;
  /** The simulated market's seed; the test app's default is `stockstreamer`. */
  seed?: string;
}

/** Inserts the simulated provider's prices for the window; returns the number of rows written. */
export async function seedSimulatedHistory(
  databaseUrl: string,
  options: SimulatedHistoryOptions,
): Promise<number> {
  const { tickers, days, seed = 'stockstreamer' } = options;
  const stepMs = options.stepMs ?? 30 * SECOND;
  const fineStepMs = options.fineStepMs ?? 5 * SECOND;
  const end = Math.floor(options.end.getTime() / SECOND) * SECOND;
  const fineFrom = end - (options.fineHours ?? 2) * HOUR;
  const times: number[] = [];
  for (let t = end - days * DAY; t < fineFrom; t += stepMs) times.push(t);
  for (let t = fineFrom; t <= end; t += fineStepMs) times.push(t);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let written = 0;
  try {
    for (const ticker of tickers) {
      const prices = times.map((t) => simulatedPrice(seed, ticker, new Date(t)));
      const result = await client.query(
        `insert into stock_prices (stock_name, price, time)
         select $1, p, t from unnest($2::numeric[], $3::timestamptz[]) as u(p, t)
         on conflict do nothing`,
        [ticker, prices, times.map((t) => new Date(t).toISOString())],
      );
      written += result.rowCount ?? 0;
    }
    await foldWholeLog(client);
    await client.query('analyze stock_prices; analyze stock_prices_1m');
  } finally {
    await client.end();
  }
  return written;
}

/** Inserts a random walk per ticker at `stepMs` from `end - days` to `end`, generated in the database. */
export async function seedRandomWalk(
  databaseUrl: string,
  options: { tickers: readonly string[]; bases: readonly number[]; end: Date; days: number; stepMs?: number },
): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const end = new Date(Math.floor(options.end.getTime() / SECOND) * SECOND);
    const result = await client.query(
      `insert into stock_prices (stock_name, price, time)
       select ticker, round((base * exp(sum(step) over (partition by ticker order by time)))::numeric, 2), time
       from unnest($1::text[], $2::float8[]) as t(ticker, base),
            generate_series($3::timestamptz, $4::timestamptz, $5::interval) as time,
            lateral (select (random() - 0.5) * 0.002 as step) s
       on conflict do nothing`,
      [
        options.tickers,
        options.bases,
        new Date(end.getTime() - options.days * DAY).toISOString(),
        end.toISOString(),
        `${(options.stepMs ?? 5 * SECOND) / SECOND} seconds`,
      ],
    );
    // Fold the rollup's log now rather than on the app's next turn, so the first read is already warm.
    await foldWholeLog(client);
    await client.query('analyze stock_prices; analyze stock_prices_1m');
    return result.rowCount ?? 0;
  } finally {
    await client.end();
  }
}
