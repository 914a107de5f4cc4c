import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeQueues,
  createQueues,
  MAINTENANCE_EVERY_MS,
  MAINTENANCE_SCHEDULER_ID,
  QUEUE_NAMES,
  SCHEDULER_IDS,
  upsertSchedulers,
} from '../../jobs/queues.ts';
import { keepSchedulers } from '../../jobs/scheduler-keeper.ts';
import { createDatabase } from '../../src/db/client.ts';
import { withLastKnownTickers } from '../../src/db/watchlist-fallback.ts';
import { createWatchlistRepository } from '../../src/db/watchlist-repository.ts';
import { warnIfRedisMayEvict } from '../../src/redis/eviction-policy.ts';
import { freePort } from '../helpers/ports.ts';
import { createTestDatabase, removeRedisPrefix, TEST_REDIS_URL, uniqueName } from '../helpers/services.ts';

/** A pino logger whose lines land in an array, to assert what an operator would read. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

describe('Redis eviction policy at start', () => {
  const servers: ChildProcess[] = [];
  afterAll(() => {
    for (const server of servers) server.kill('SIGKILL');
  });

  async function redisWithPolicy(policy: string): Promise<Redis> {
    const port = await freePort();
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--maxmemory-policy', policy],
      { stdio: 'ignore' },
    );
    servers.push(server);
    const client = new Redis(port, '127.0.0.1', { retryStrategy: () => 50, maxRetriesPerRequest: null });
    client.on('error', () => {});
    await client.ping();
    return client;
  }

  it('warns when Redis may evict keys, naming the policy and the fix', async () => {
    const redis = await redisWithPolicy('allkeys-lru');
    const { logger, lines } = capturingLogger();
    await warnIfRedisMayEvict(redis, logger);
    redis.disconnect();
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/maxmemory-policy is allkeys-lru, not noeviction/);
    expect(warning?.msg).toMatch(/maxmemory-policy noeviction/);
  });

  it('says nothing when the policy is noeviction', async () => {
    const redis = await redisWithPolicy('noeviction');
    const { logger, lines } = capturingLogger();
    await warnIfRedisMayEvict(redis, logger);
    redis.disconnect();
    expect(lines).toEqual([]);
  });
});

describe('the scheduler keeper', () => {
  const prefix = uniqueName('keeper');
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queues = createQueues(connection, prefix);
  const schedule = { priceIntervalMs: 1000, logoIntervalMs: 3_600_000, highlowIntervalMs: 3_600_000 };
  afterAll(async () => {
    await closeQueues(queues);
    connection.disconnect();
    await removeRedisPrefix(prefix);
  });

  it('puts the schedulers back when Redis lost them, and leaves them alone otherwise', async () => {
    await upsertSchedulers(queues, schedule);
    const { logger, warnings } = capturingLogger();
    const keeper = keepSchedulers({ queues, schedule, redis: connection, logger, everyMs: 3_600_000 });
    try {
      expect(await keeper.check()).toBe(false);
      // What a Redis that came back empty looks like to the queues.
      for (const name of QUEUE_NAMES) await queues[name].removeJobScheduler(SCHEDULER_IDS[name]);
      expect(await keeper.check()).toBe(true);
      for (const name of QUEUE_NAMES) {
        expect((await queues[name].getJobSchedulers()).map((s) => s.key)).toEqual([SCHEDULER_IDS[name]]);
      }
      expect(warnings()).toEqual([expect.stringMatching(/job schedulers were missing from Redis/)]);
    } finally {
      keeper.stop();
    }
  });

  it('puts the hourly maintenance scheduler back too, when only it was lost', async () => {
    await upsertSchedulers(queues, schedule);
    const keeper = keepSchedulers({
      queues,
      schedule,
      redis: connection,
      logger: capturingLogger().logger,
      everyMs: 3_600_000,
    });
    try {
      await queues.maintenance.removeJobScheduler(MAINTENANCE_SCHEDULER_ID);
      expect(await keeper.check()).toBe(true);
      const restored = await queues.maintenance.getJobScheduler(MAINTENANCE_SCHEDULER_ID);
      expect(restored?.every).toBe(MAINTENANCE_EVERY_MS);
    } finally {
      keeper.stop();
    }
  });

  it('restarts a chain of price jobs that stopped at a job no worker holds, on its second sighting', async () => {
    await upsertSchedulers(queues, schedule);
    const before = (await queues.prices.getJobScheduler(SCHEDULER_IDS.prices))!.next!;
    // A worker took this slot's job and died before queueing the next one: the job sits in the active
    // list, and the scheduler still points at it. (Done by hand: what BullMQ's moveToActive does first.)
    const jobId = `repeat:${SCHEDULER_IDS.prices}:${before}`;
    await connection.zrem(queues.prices.keys.delayed!, jobId);
    await connection.lrem(queues.prices.keys.wait!, 0, jobId);
    await connection.lpush(queues.prices.keys.active!, jobId);
    expect(await queues.prices.getJobState(jobId)).toBe('active');
    const { logger, warnings } = capturingLogger();
    const keeper = keepSchedulers({
      queues,
      schedule,
      redis: connection,
      logger,
      everyMs: 3_600_000,
      now: () => before + 5 * schedule.priceIntervalMs,
    });
    try {
      expect(await keeper.check()).toBe(false);
      expect(await keeper.check()).toBe(true);
      const after = (await queues.prices.getJobScheduler(SCHEDULER_IDS.prices))!.next!;
      expect(after).toBeGreaterThan(before);
      expect(await queues.prices.getJobState(`repeat:${SCHEDULER_IDS.prices}:${after}`)).toMatch(
        /delayed|waiting/,
      );
      expect(warnings()).toEqual([expect.stringMatching(/stopped at a job no worker holds/)]);
      // Healthy again: nothing more to do.
      expect(await keeper.check()).toBe(false);
    } finally {
      keeper.stop();
    }
  });
});

describe('the watchlist while Postgres is unreachable', () => {
  const prefix = uniqueName('watchlist');
  const redis = new Redis(TEST_REDIS_URL);
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const handles: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    redis.disconnect();
    await removeRedisPrefix(prefix);
    await database?.drop();
  });

  function repository(url: string, logger = capturingLogger().logger) {
    const handle = createDatabase(url, logger, { max: 1 });
    handles.push(handle);
    return withLastKnownTickers(createWatchlistRepository(handle.db), { redis, prefix, logger });
  }

  it('price jobs get the last known watchlist from Redis, and only for unavailability', async () => {
    database = await createTestDatabase();
    const live = repository(database.url);
    await live.seed(['AAPL', 'GE']);
    expect(await live.fetchableTickers('simulated')).toEqual(['AAPL', 'GE']);
    // The copy is written without waiting; give it a moment.
    for (let i = 0; i < 50 && !(await redis.exists(`${prefix}:watchlist:fetchable:simulated`)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const { logger, warnings } = capturingLogger();
    const unreachable = repository('postgres://postgres@127.0.0.1:1/nowhere', logger);
    expect(await unreachable.fetchableTickers('simulated')).toEqual(['AAPL', 'GE']);
    expect(warnings()).toEqual([expect.stringMatching(/database unreachable/)]);
    // No copy for this provider: the outage is the caller's to handle.
    await expect(unreachable.fetchableTickers('finnhub')).rejects.toThrow();

    // A statement that fails for another reason (here: no tables) is never papered over.
    const empty = await createTestDatabase({ migrate: false });
    try {
      await expect(repository(empty.url).fetchableTickers('simulated')).rejects.toThrow(/symbols/);
    } finally {
      await empty.drop();
    }
  });
});
