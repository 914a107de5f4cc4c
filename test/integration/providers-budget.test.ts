import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import type { RequestBudget } from '../../src/providers/provider.ts';
import {
  createRedisRequestBudget,
  type RedisRequestBudgetOptions,
} from '../../src/providers/request-budget.ts';
import { type Running, startRole } from '../../src/start.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { waitFor } from '../helpers/provider-app.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  TEST_REDIS_URL,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';

/**
 * PROVIDER_BUDGET is one budget for the whole deployment, kept in Redis: two worker processes that both
 * want far more than it allows still send no more than it allows, in any window, as the upstream sees it.
 */
const MAX = 4;
const WINDOW_MS = 1000;

describe('the request budget', () => {
  const prefix = uniqueName('budget');

  afterAll(() => removeRedisPrefix(prefix));

  it('grants exactly the budget to takers racing on separate connections', async () => {
    const clients = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    try {
      const budgets = clients.map((redis) =>
        createRedisRequestBudget(redis, { key: `${prefix}:race`, max: 5, windowMs: 60_000 }),
      );
      const waits = await Promise.all(Array.from({ length: 20 }, (_, i) => budgets[i % 2]!.take(1)));
      expect(waits.filter((w) => w === 0)).toHaveLength(5);
      // The refused are told how long until the oldest request leaves the window: at most the window.
      for (const wait of waits.filter((w) => w > 0)) expect(wait).toBeLessThanOrEqual(60_000);
      // A weight counts as that many requests, all or nothing.
      expect(await budgets[0]!.take(1)).toBeGreaterThan(0);
      await expect(budgets[0]!.take(6)).rejects.toThrow(/cannot grant 6/);
    } finally {
      for (const client of clients) client.disconnect();
    }
  });
});

describe('the two shares of a planned budget', () => {
  const prefix = uniqueName('lanes');
  afterAll(() => removeRedisPrefix(prefix));

  /** A budget on its own connection and a manual clock, closed after `use`. */
  async function withBudget(
    options: Omit<RedisRequestBudgetOptions, 'key' | 'now'>,
    use: (budget: RequestBudget, clock: { now: number }) => Promise<void>,
  ) {
    const redis = new Redis(TEST_REDIS_URL);
    const clock = { now: 1_000_000 };
    try {
      await use(
        createRedisRequestBudget(redis, { ...options, key: uniqueName(prefix), now: () => clock.now }),
        clock,
      );
    } finally {
      redis.disconnect();
    }
  }

  it('never lets names and logos take what prices were promised, and spaces them out', async () => {
    const shares = { max: 8, windowMs: 60_000, extraMax: 2, extraSpacingMs: 10_000 };
    await withBudget(shares, async (budget, clock) => {
      expect(await budget.take(1, 'extra')).toBe(0);
      // The next extra waits its spacing, even with the window nearly empty.
      expect(await budget.take(1, 'extra')).toBe(10_000);
      clock.now += 10_000;
      expect(await budget.take(1, 'extra')).toBe(0);
      clock.now += 10_000;
      // Its share (2) is spent: the next extra waits for the first to leave the window …
      expect(await budget.take(1, 'extra')).toBe(40_000);
      // … while prices still have all six of theirs.
      for (let i = 0; i < 6; i++) expect(await budget.take(1, 'price')).toBe(0);
      expect(await budget.take(1, 'price')).toBeGreaterThan(0);
      // A request heavier than its share could ever be granted is a bug, not a wait.
      await expect(budget.take(3, 'extra')).rejects.toThrow(/cannot grant 3/);
    });
  });

  it('keeps a burst rule across every share', async () => {
    await withBudget({ max: 25, windowMs: 86_400_000, minSpacingMs: 1100 }, async (budget) => {
      expect(await budget.take(1, 'price')).toBe(0);
      expect(await budget.take(1, 'extra')).toBe(1100);
      expect(await budget.take(1, 'check')).toBe(1100);
    });
  });
});

describe('two workers sharing one budget', () => {
  let fake: FakeUpstream;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = uniqueName('q');
  const workers: Running[] = [];
  const started = [0, 0];

  beforeAll(async () => {
    fake = await startFakeUpstream();
    database = await createTestDatabase({ migrate: false });
    const config = loadConfig(
      testEnv(database.url, prefix, {
        ...fake.env('finnhub', {
          SYMBOLS: 'AAPL,MSFT,NVDA',
          PROVIDER_BUDGET: `${MAX}/${WINDOW_MS}ms`,
          // Three requests every 250 ms each: 12 a second wanted, 4 a second allowed.
          PRICE_INTERVAL_MS: '250',
          LOGO_INTERVAL_MS: '3600000',
          HIGHLOW_INTERVAL_MS: '3600000',
        }),
      }),
    );
    for (const index of [0, 1]) {
      const running = await startRole('worker', config, {
        logger: silentLogger,
        clock: createManualClock(new Date()),
      });
      for (const worker of Object.values(running.workers!.workers)) {
        worker.on('active', () => {
          started[index]! += 1;
        });
      }
      workers.push(running);
    }
  });

  afterAll(async () => {
    for (const running of workers) await running.close();
    await fake?.close();
    await removeRedisPrefix(prefix);
    await database?.drop();
  });

  it('never lets more than the budget through in any window, whichever worker sends', async () => {
    await waitFor(
      'five windows of requests',
      async () => fake.requestsTo('finnhub').length >= MAX * 5,
      60_000,
    );
    for (const running of workers) await running.close();
    const times = fake
      .requestsTo('finnhub')
      .map((r) => r.at)
      .sort((a, b) => a - b);

    // Both workers took jobs: the budget held across processes, not within one.
    expect(started[0]).toBeGreaterThan(0);
    expect(started[1]).toBeGreaterThan(0);

    // The budget is counted when a request is granted; the upstream sees it a few milliseconds later, by a
    // delay that varies. So windows are checked as the upstream saw them, a little shorter than the budget's.
    const ARRIVAL_JITTER_MS = 150;
    let busiest = 0;
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + WINDOW_MS - ARRIVAL_JITTER_MS);
      busiest = Math.max(busiest, inWindow.length);
    }
    expect(busiest).toBeLessThanOrEqual(MAX);
    // And over the whole run, no more than the budget allowed for its length.
    const windows = Math.ceil((times.at(-1)! - times[0]! + 1) / WINDOW_MS);
    expect(times.length).toBeLessThanOrEqual(MAX * (windows + 1));
    // The budget did bind: demand was three times the allowance, yet every request went out (none was
    // sent and refused upstream).
    expect(fake.requestsTo('finnhub').every((r) => r.outcome === 'ok' || r.outcome === 'unknown')).toBe(true);
  });
});
