import type { Job } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledSlot } from '../../jobs/queues.ts';
import { priceWorkerConcurrency } from '../../jobs/workers.ts';
import { systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createProvider } from '../../src/providers/create-provider.ts';
import type { MarketDataProvider } from '../../src/providers/provider.ts';
import { type Running, startRole } from '../../src/start.ts';
import { waitFor } from '../helpers/provider-app.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';

const INTERVAL_MS = 1000;
/** Each fetch takes two and a half intervals, so three run at once: more than two workers at concurrency 1. */
const FETCH_MS = 2500;
const PROVIDER_TIMEOUT_MS = 4000;
const SLOTS = 15;
const SYMBOLS = ['AAPL', 'MSFT'];

/** What the provider saw: one call per run of a slot, and which worker made it. */
interface Fetch {
  slot: number;
  worker: number;
}

function slowCountingProvider(
  inner: MarketDataProvider,
  worker: number,
  fetches: Fetch[],
): MarketDataProvider {
  return {
    ...inner,
    async getQuotes(symbols, options) {
      fetches.push({ slot: options?.asOf?.getTime() ?? Number.NaN, worker });
      await new Promise((resolve) => setTimeout(resolve, FETCH_MS));
      return inner.getQuotes(symbols, options);
    },
  };
}

describe('one price scheduler, two worker processes', () => {
  const prefix = uniqueName('slots');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const roles: Running[] = [];
  const fetches: Fetch[] = [];
  /** Every start of a price job as BullMQ reports it, per worker. */
  const starts: { slot: number; worker: number }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });

  afterAll(async () => {
    await Promise.all(roles.map((role) => role.close()));
    await removeRedisPrefix(prefix);
    await database?.drop();
  });

  it('runs every slot exactly once, even when each fetch is slower than the interval', async () => {
    const config = loadConfig(
      testEnv(database.url, prefix, {
        SYMBOLS: SYMBOLS.join(','),
        PRICE_INTERVAL_MS: String(INTERVAL_MS),
        LOGO_INTERVAL_MS: '3600000',
        HIGHLOW_INTERVAL_MS: '3600000',
        PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
      }),
    );
    // Two workers at concurrency 1 could hold only two of the three overlapping fetches.
    expect(priceWorkerConcurrency(INTERVAL_MS, PROVIDER_TIMEOUT_MS)).toBeGreaterThanOrEqual(3);

    // Each role is what `stockstreamer worker` runs: its own Redis connections, its own BullMQ workers.
    for (const worker of [0, 1]) {
      const provider = slowCountingProvider(createProvider(config.provider, systemClock), worker, fetches);
      const role = await startRole('worker', config, { provider, logger: silentLogger });
      roles.push(role);
      role.workers!.workers.prices.on('active', (job: Job) => {
        const slot = scheduledSlot(job);
        if (slot) starts.push({ slot: slot.getTime(), worker });
      });
    }
    // Judge only slots that fall after both workers were taking jobs.
    const bothRunning = Date.now();
    const first = await waitFor('a slot after both workers started', async () =>
      fetches.find((f) => f.slot > bothRunning),
    );
    const last = first.slot + (SLOTS - 1) * INTERVAL_MS;
    await waitFor(
      `${SLOTS} slots to be fetched`,
      async () => fetches.some((f) => f.slot >= last),
      (SLOTS + 10) * INTERVAL_MS,
    );
    // Stopping lets the fetches in flight finish and be stored.
    await Promise.all(roles.splice(0).map((role) => role.close()));

    const window = (slot: number) => slot >= first.slot && slot <= last;
    const expected = Array.from({ length: SLOTS }, (_, i) => first.slot + i * INTERVAL_MS);
    const fetchedSlots = fetches.filter((f) => window(f.slot)).map((f) => f.slot);
    const startedSlots = starts.filter((s) => window(s.slot)).map((s) => s.slot);
    // Once each: nothing missed (a slot skipped leaves a gap), nothing run twice (by either worker).
    expect(fetchedSlots.sort((a, b) => a - b)).toEqual(expected);
    expect(startedSlots.sort((a, b) => a - b)).toEqual(expected);

    // And the data says the same: each slot's quotes stored once (the simulation stamps the slot's own instant, ms included).
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ time: Date; count: string }>(
        'select time, count(*) from stock_prices where time between $1 and $2 group by time order by time',
        [new Date(first.slot), new Date(last)],
      );
      expect(rows.map((r) => [r.time.getTime(), Number(r.count)])).toEqual(
        expected.map((slot) => [slot, SYMBOLS.length]),
      );
    } finally {
      await client.end();
    }
    // Informative, not asserted: which worker takes a slot depends on which one Redis wakes first.
    const taken = [0, 1].map((worker) => starts.filter((s) => window(s.slot) && s.worker === worker).length);
    console.info(`scheduler-slots: ${SLOTS} slots, taken ${taken.join('/')} by the two workers`);
  }, 120_000);
});
