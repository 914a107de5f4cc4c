import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type Running, startRole } from '../../src/start.ts';
import { freePort } from '../helpers/ports.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';

const BIN = fileURLToPath(new URL('../../bin/stockstreamer.js', import.meta.url));
const INTERVAL_MS = 1000;

const BUSY_MS = 5000;

/** Holds this thread, and so the event loop of the API running in this process, for `ms`. */
function holdEventLoop(untilMs: number): void {
  while (Date.now() < untilMs) {
    // spin: nothing else in this process runs meanwhile
  }
}

/**
 * Issue 11: no request, however expensive, may delay a price slot. `start` runs here, in the test's
 * process, as the CLI runs it: the API on this event loop, the workers in a child process of the same
 * binary. The test then holds this event loop for 5 s, as an expensive request would.
 */
describe('isolation of the price jobs from the API', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let running: Running | undefined;
  let client: pg.Client;
  const prefix = uniqueName('q');

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    // A fixed METRICS_PORT, as ops/ sets one: the worker process must not try to bind it too.
    const env = testEnv(database.url, prefix, {
      PRICE_INTERVAL_MS: String(INTERVAL_MS),
      METRICS_PORT: String(await freePort()),
    });
    running = await startRole('start', loadConfig(env), {
      logger: silentLogger,
      workerProcess: {
        command: process.execPath,
        args: [BIN],
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      },
    });
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // The store as of a given instant, counted by the server at that instant: each statement of a volatile
    // PL/pgSQL function sees what was committed when it began, so the count is taken after the sleep.
    await client.query(`
      create function pg_temp.stored_at(instant timestamptz, low timestamptz, high timestamptz)
      returns bigint language plpgsql volatile as $$
      begin
        perform pg_sleep_until(instant);
        return (select count(*) from stock_prices where time between low and high);
      end $$`);
  });

  afterAll(async () => {
    await client?.end();
    await running?.close();
    await removeRedisPrefix(prefix);
    await database?.drop();
  });

  it('stores every price slot while the API is held busy for 5 s, during the busy period', async () => {
    expect(running!.workers).toBeUndefined();
    expect(running!.workerPid?.()).toBeGreaterThan(0);
    for (let i = 0; i < 300; i++) {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from stock_prices');
      if (rows[0]!.n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const busyFrom = Date.now() + 200;
    const busyUntil = busyFrom + BUSY_MS;
    // Slots whose ticks (stamped with their slot's time) fall in this window had a whole interval to be
    // stored before the busy period ended.
    const low = new Date(busyFrom);
    const high = new Date(busyUntil - 2 * INTERVAL_MS);
    // Sent before the loop is held; Postgres answers it at the end of the busy period.
    const storedByEnd = client.query<{ n: string }>('select pg_temp.stored_at($1, $2, $3) as n', [
      new Date(busyUntil),
      low,
      high,
    ]);
    await new Promise((resolve) => setTimeout(resolve, busyFrom - Date.now()));
    holdEventLoop(busyUntil);

    // What was stored for the window in the end, once any late job had its chance.
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    const { rows } = await client.query<{ ms: string; n: number }>(
      `select (extract(epoch from time) * 1000)::bigint as ms, count(*)::int as n
       from stock_prices where time between $1 and $2 group by time order by time`,
      [low, high],
    );
    const times = rows.map((row) => Number(row.ms));
    const watched = running!.deps.config.symbols.length;

    // Every slot in the window is there, one interval apart, each with a tick per watched ticker...
    expect(times.length).toBeGreaterThanOrEqual(Math.floor((high.getTime() - low.getTime()) / INTERVAL_MS));
    expect(times.slice(1).map((time, i) => time - times[i]!)).toEqual(times.slice(1).map(() => INTERVAL_MS));
    expect(rows.every((row) => row.n === watched)).toBe(true);
    // ...and all of them were stored while this process's event loop was held.
    expect(Number((await storedByEnd).rows[0]!.n)).toBe(times.length * watched);
  });

  it('restarts the worker process when it dies, and its prices keep coming', async () => {
    const first = running!.workerPid!()!;
    process.kill(first, 'SIGKILL');
    let next: number | undefined;
    for (let i = 0; i < 300 && (next === undefined || next === first); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      next = running!.workerPid!();
    }
    expect(next).not.toBe(first);
    const since = new Date();
    let stored = 0;
    for (let i = 0; i < 300 && stored === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { rows } = await client.query<{ n: number }>(
        'select count(*)::int as n from stock_prices where time >= $1',
        [since],
      );
      stored = rows[0]!.n;
    }
    expect(stored).toBeGreaterThan(0);
  });

  it.each([
    ['/metrics of the API', () => `${running!.url}/metrics`],
    ['METRICS_PORT', () => running!.metricsUrl!],
  ])("serves the worker process's series in %s", async (_, url) => {
    const response = await fetch(url());
    expect(response.status).toBe(200);
    const text = await response.text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    // Recorded by the price jobs, which ran only in the worker process.
    expect(value(/^stockstreamer_ticks_stored_total (\S+)$/m)).toBeGreaterThan(0);
    expect(value(/^stockstreamer_job_seconds_count\{[^}]*queue="prices"[^}]*\} (\S+)$/m)).toBeGreaterThan(0);
    // And this process's own series are still there.
    expect(text).toMatch(/^stockstreamer_subscribers /m);
  });
});
