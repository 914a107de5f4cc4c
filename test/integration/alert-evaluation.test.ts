import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AlertJobData, createAlertProcessor } from '../../jobs/alert-processor.ts';
import {
  type AlertFiring,
  type AlertRepository,
  createAlertRepository,
} from '../../src/db/alert-repository.ts';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { createTickRepository, type TickRepository } from '../../src/db/tick-repository.ts';
import type { AlertRuleSpec } from '../../src/domain/alert-rule.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  TEST_REDIS_URL,
  uniqueName,
} from '../helpers/services.ts';

const T0 = Date.UTC(2026, 10, 30, 15, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe('alert evaluation on real Postgres (and BullMQ on real Redis)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handles: DatabaseHandle[];
  let alerts: AlertRepository;
  let ticks: TickRepository;
  let admin: pg.Client;
  let second = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    handles = [createDatabase(database.url, silentLogger), createDatabase(database.url, silentLogger)];
    alerts = createAlertRepository(handles[0]!.db);
    ticks = createTickRepository(handles[0]!.db);
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    for (const handle of handles ?? []) await handle.close();
    await database?.drop();
  });
  beforeEach(async () => {
    await admin.query('truncate alert_rules, alert_firings, stock_prices, stock_highlow');
    second = 0;
  });

  /** Stores one tick per ticker, each a second after the last, and returns the batch as a price job would. */
  async function store(prices: Record<string, number>) {
    second += 5;
    const batch = Object.entries(prices).map(([ticker, price]) => ({ ticker, price, time: at(second) }));
    await ticks.insertTicks(batch);
    return batch;
  }
  const rule = (spec: Partial<AlertRuleSpec> & Pick<AlertRuleSpec, 'kind'>) =>
    alerts.create({ ticker: 'AAPL', threshold: null, windowS: null, cooldownS: 0, ...spec });
  const firingCount = async () =>
    Number((await admin.query('select count(*) as n from alert_firings')).rows[0].n);

  it('fires once when a price crosses above, stays quiet while it stays there, and re-arms below', async () => {
    const above = await rule({ kind: 'above', threshold: 100 });
    expect((await alerts.evaluate(await store({ AAPL: 99 }))).fired).toEqual([]);
    const crossed = await alerts.evaluate(await store({ AAPL: 101 }));
    expect(crossed.fired).toMatchObject([{ ruleId: above.id, ticker: 'AAPL', kind: 'above', price: 101 }]);
    expect(crossed.fired[0]!.time).toEqual(at(second));
    expect((await alerts.evaluate(await store({ AAPL: 102 }))).fired).toEqual([]);
    expect((await alerts.evaluate(await store({ AAPL: 99.5 }))).fired).toEqual([]);
    expect((await alerts.evaluate(await store({ AAPL: 100 }))).fired).toMatchObject([{ price: 100 }]);
    expect(await firingCount()).toBe(2);
  });

  it('holds a cooldown of tick time: a crossing within it waits, one after it fires', async () => {
    await rule({ kind: 'below', threshold: 50, cooldownS: 60 });
    expect((await alerts.evaluate(await store({ AAPL: 49 }))).fired).toHaveLength(1); // t = 5 s
    await alerts.evaluate(await store({ AAPL: 51 })); // re-armed at 10 s
    expect((await alerts.evaluate(await store({ AAPL: 48 }))).fired).toEqual([]); // 15 s: cooling down
    second += 45; // next tick at 65 s: 60 s after the firing
    expect((await alerts.evaluate(await store({ AAPL: 47 }))).fired).toMatchObject([{ price: 47 }]);
  });

  it('judges a percentage move against the price a window earlier, and 52-week extremes', async () => {
    await rule({ kind: 'move', threshold: -5, windowS: 300 });
    await rule({ kind: 'high52', ticker: 'NVDA' });
    await admin.query(
      `insert into stock_highlow (stock_name, high_val52wk, low_val52wk) values ('NVDA', 150, 80)`,
    );
    await store({ AAPL: 100, NVDA: 149 });
    second += 290; // 300 s after the first tick
    expect((await alerts.evaluate(await store({ AAPL: 95.5, NVDA: 150 }))).fired).toEqual([]);
    const fired = (await alerts.evaluate(await store({ AAPL: 95, NVDA: 150.01 }))).fired;
    expect(fired.map((f) => [f.ticker, f.kind, f.price]).sort()).toEqual([
      ['AAPL', 'move', 95],
      ['NVDA', 'high52', 150.01],
    ]);
  });

  it('fires a stale-data rule at the slot when no price was stored for its window, once, and re-arms on a price', async () => {
    await rule({ kind: 'stale', windowS: 300 });
    await store({ AAPL: 100 }); // stored at 5 s
    expect((await alerts.evaluate([], at(300))).fired).toEqual([]);
    const stale = await alerts.evaluate([], at(310));
    expect(stale.fired).toMatchObject([{ kind: 'stale', ticker: 'AAPL', price: 100 }]);
    expect(stale.fired[0]!.time).toEqual(at(310));
    // The same slot again (a retry), and later slots while it stays stale: nothing more.
    expect(await alerts.evaluate([], at(310))).toEqual({ judged: 0, fired: [] });
    expect((await alerts.evaluate([], at(400))).fired).toEqual([]);
    second = 400;
    const fresh = await store({ AAPL: 101 }); // 405 s: a price again, which re-arms it
    expect((await alerts.evaluate(fresh, at(405))).fired).toEqual([]);
    expect((await alerts.evaluate([], at(706))).fired).toMatchObject([{ kind: 'stale', price: 101 }]);
    expect(await firingCount()).toBe(2);
  });

  it('judges only stored ticks, each once: a retried or late batch fires nothing again', async () => {
    await rule({ kind: 'above', threshold: 100 });
    const first = await store({ AAPL: 101 });
    expect((await alerts.evaluate(first)).fired).toHaveLength(1);
    // The same job retried, then an older job arriving late: both are behind what the rule judged.
    expect(await alerts.evaluate(first)).toEqual({ judged: 0, fired: [] });
    await store({ AAPL: 90 });
    expect(await alerts.evaluate([{ ticker: 'AAPL', time: at(second - 5) }])).toEqual({
      judged: 0,
      fired: [],
    });
    // A batch naming a tick that was never stored (job data edited by hand) judges nothing.
    expect(await alerts.evaluate([{ ticker: 'AAPL', time: at(999) }])).toEqual({ judged: 0, fired: [] });
    expect(await firingCount()).toBe(1);
  });

  it('two workers racing over the same batch record one firing per crossing', async () => {
    const racing = handles.map((handle) => createAlertRepository(handle.db));
    const rules = await Promise.all(
      Array.from({ length: 50 }, (_, i) => rule({ kind: 'above', threshold: 100 + i / 100 })),
    );
    for (let round = 0; round < 10; round++) {
      const batch = await store({ AAPL: round % 2 === 0 ? 101 : 99 });
      const results = await Promise.all(racing.map((repo) => repo.evaluate(batch)));
      const fired = results.flatMap((r) => r.fired);
      expect(fired).toHaveLength(round % 2 === 0 ? rules.length : 0);
      expect(new Set(fired.map((f) => f.ruleId)).size).toBe(fired.length);
    }
    expect(await firingCount()).toBe(5 * rules.length);
  });

  describe('as BullMQ work', () => {
    const prefix = uniqueName('q');
    let connection: Redis;
    let queue: Queue<AlertJobData>;
    let events: QueueEvents;
    const workers: Worker[] = [];
    beforeAll(async () => {
      connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      queue = new Queue('alerts', { connection, prefix });
      events = new QueueEvents('alerts', { connection: connection.duplicate(), prefix });
      await events.waitUntilReady();
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.close()));
      await events?.close();
      await queue?.close();
      connection?.disconnect();
      await removeRedisPrefix(prefix);
    });

    function startWorker(repo: AlertRepository, announce: (firings: AlertFiring[]) => Promise<void>) {
      const worker = new Worker(
        'alerts',
        createAlertProcessor({ alerts: repo, logger: silentLogger, announce }),
        {
          connection: connection.duplicate(),
          prefix,
        },
      );
      workers.push(worker);
      return worker;
    }
    const jobData = (batch: { ticker: string; price: number; time: Date }[]) => ({
      ticks: batch.map((t) => ({ ...t, time: t.time.toISOString() })),
    });

    it('a job that failed after firing is retried: the firing is recorded once and announced on the retry', async () => {
      await rule({ kind: 'above', threshold: 100 });
      const announced: AlertFiring[] = [];
      let calls = 0;
      const worker = startWorker(alerts, async (firings) => {
        calls++;
        if (calls === 1) throw new Error('redis went away while publishing');
        announced.push(...firings);
      });
      const job = await queue.add('alerts', jobData(await store({ AAPL: 101 })), {
        attempts: 3,
        backoff: { type: 'fixed', delay: 10 },
      });
      expect(await job.waitUntilFinished(events, 10_000)).toEqual({ judged: 0, fired: 0, announced: 1 });
      expect(calls).toBe(2);
      expect(announced).toMatchObject([{ ticker: 'AAPL', price: 101 }]);
      expect(await firingCount()).toBe(1);
      await worker.close();
    });

    it('two workers taking duplicate jobs at once: one firing per crossing, each announced once', async () => {
      await rule({ kind: 'above', threshold: 100 });
      await rule({ kind: 'below', threshold: 90 });
      const announced: AlertFiring[] = [];
      const announce = async (firings: AlertFiring[]) => {
        announced.push(...firings);
      };
      startWorker(createAlertRepository(handles[0]!.db), announce);
      startWorker(createAlertRepository(handles[1]!.db), announce);
      for (const price of [101, 95, 89, 101]) {
        const data = jobData(await store({ AAPL: price }));
        const jobs = await queue.addBulk(Array.from({ length: 4 }, () => ({ name: 'alerts', data })));
        await Promise.all(jobs.map((job) => job.waitUntilFinished(events, 10_000)));
      }
      expect(announced.map((f) => [f.kind, f.price])).toEqual([
        ['above', 101],
        ['below', 89],
        ['above', 101],
      ]);
      expect(await firingCount()).toBe(3);
    });
  });
});
