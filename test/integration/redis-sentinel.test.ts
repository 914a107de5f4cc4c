import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticksChannel } from '../../src/tick-channel.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createSentinelRedis, type SentinelRedis } from '../helpers/redis-sentinel.ts';
import { readSse } from '../helpers/sse.ts';

type TickEvent = { data: { ticks: { ticker: string; time: string }[] } };

/**
 * The whole app on Redis behind Sentinel (a primary, a replica, three sentinels of its own): BullMQ,
 * pub/sub and a GraphQL subscription keep working across a kill -9 of the primary, on the replica the
 * sentinels promote, without a restart and without REDIS_URL.
 */
describe('Redis Sentinel: every client follows a failover', () => {
  let dir: string;
  let redis: SentinelRedis;
  let app: TestApp;
  let listener: Redis;
  const heard: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stockstreamer-sentinel-'));
    redis = await createSentinelRedis(dir);
    app = await startTestApp({
      // The app's clock starts now: its price jobs' ticks then come after the one the scheduler runs at
      // start (at the real time), as they would in production, where tick times only move forward.
      start: new Date(Math.floor(Date.now() / 1000) * 1000),
      env: {
        REDIS_URL: '',
        REDIS_SENTINELS: redis.sentinels,
        REDIS_SENTINEL_MASTER: redis.masterName,
        SYMBOLS: 'AAPL,MSFT',
      },
    });
    listener = app.deps.createRedis('test-listener');
    listener.on('message', (_channel, message: string) => heard.push(message));
    await listener.subscribe(ticksChannel(app.prefix));
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await redis?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A price job a second later on the app's clock, queued and run by the worker: it must store new ticks. */
  const runPriceJob = async () => {
    app.clock.advance(5000);
    const result = await app.runPriceJob();
    expect(result.stored).toBeGreaterThan(0);
  };
  const latestTime = (event: unknown) =>
    (event as TickEvent).data.ticks
      .map((t) => t.time)
      .sort()
      .at(-1)!;
  /**
   * The next event with ticks later than `after`. Delivery is at least once: a job whose completion the
   * killed primary had not yet passed to its replica runs again on the new one and publishes its batch
   * again, so an event already seen may come first.
   */
  const nextNewer = async (stream: ReturnType<typeof readSse>, after: string) => {
    for (;;) {
      const event = await stream.next(30_000);
      if (latestTime(event) > after) return event;
    }
  };

  it('stores, publishes and streams through the primary the sentinels name, before and after failover', async () => {
    const before = await redis.primaryPort();
    const stream = readSse(`${app.url}/graphql`, 'subscription { ticks { ticker time } }');
    await stream.ready;

    await runPriceJob();
    const first = (await stream.next()) as TickEvent;
    expect(first.data.ticks.map((t) => t.ticker).sort()).toEqual(['AAPL', 'MSFT']);

    // A tick stored while no primary answers (a worker whose publish went to the dead primary): no one
    // publishes it again, so the API must replay it from PostgreSQL once its subscription is back.
    const unpublished = { ticker: 'AAPL', price: 123.45, time: new Date(app.clock.now().getTime() + 1000) };
    const after = await redis.failOver({
      whilePrimaryDown: async () => {
        expect(await app.deps.ticks.insertTicks([unpublished])).toHaveLength(1);
      },
    });
    expect(after).not.toBe(before);
    const replayed = (await stream.next(30_000)) as TickEvent;
    expect(replayed.data.ticks).toContainEqual({ ticker: 'AAPL', time: unpublished.time.toISOString() });

    // BullMQ (queue, worker, scheduler), the tick publisher, the API's subscriber and the test's own
    // subscriber all find the new primary: a job runs, its ticks reach the open stream and the channel.
    const heardBefore = heard.length;
    await runPriceJob();
    const second = await nextNewer(stream, latestTime(replayed));
    await expect.poll(() => heard.length, { timeout: 10_000 }).toBeGreaterThan(heardBefore);

    // The app's commands went to the new primary, not the old one (now a replica).
    const info = await app.deps.redis.info();
    expect(info).toMatch(/^role:master\r?$/m);
    expect(info).toMatch(new RegExp(`^tcp_port:${after}\\r?$`, 'm'));

    // A second failover, back to the first node, is followed too.
    expect(await redis.failOver()).toBe(before);
    await runPriceJob();
    await nextNewer(stream, latestTime(second));
    stream.close();
  });
});
