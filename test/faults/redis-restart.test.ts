import { afterEach, describe, expect, it } from 'vitest';
import { INTERVAL_MS } from '../helpers/roles.ts';
import { sleep } from '../helpers/servers.ts';
import { createFaultCase, type FaultCase } from './helpers/fault-case.ts';
import { openTickStream, watchHealth, watchRows } from './helpers/observe.ts';
import { recordRow } from './helpers/report.ts';

const OUTAGE_MS = 10_000;

/**
 * Case 2: Redis stopped for 10 s and started again, once with its data (append-only file) and once empty
 * (as a Redis without persistence comes back). A worker and an API run throughout, as separate processes.
 *
 * Expected: both reconnect by themselves; the pipeline stores again within one interval of Redis answering
 * (and, when Redis came back empty, the worker has put the schedulers back first); the API's subscription
 * stream, open across the outage, carries ticks again; /healthz says 503 while Redis is away. No fetched
 * tick is lost, none doubled. Slots that fall inside the outage get no job at all (the scheduler lives in
 * the Redis that is down): they are reported as skipped. When Redis comes back empty, the one job that was
 * waiting in it for the next slot is gone with everything else: reported as a slot without a tick.
 */
describe('fault: Redis restarts', () => {
  let world: FaultCase | undefined;
  afterEach(async (context) => {
    await world?.dispose({ keep: context.task.result?.state === 'fail' });
    world = undefined;
  });

  it.each([
    ['2a', 'kept its data', false],
    ['2b', 'came back empty', true],
  ])('%s: Redis stopped for 10 s, then %s', async (id, how, empty) => {
    world = await createFaultCase(`redis-${id}`);
    const worker = await world.spawn('worker');
    const api = await world.spawn('api');
    await Promise.all([worker.ready, api.ready]);
    const health = watchHealth(`${api.url}/healthz`);
    const rows = watchRows(world.databaseUrl);
    const stream = openTickStream(`${api.url}/graphql`);
    await stream.ready;
    try {
      await sleep(4 * INTERVAL_MS);
      const from = Math.min(...world.slots.slots);

      const down = Date.now();
      await world.redis.stop();
      await sleep(OUTAGE_MS);
      const back = await world.redis.start({ empty });

      await sleep(6 * INTERVAL_MS);
      const to = Date.now();
      const figures = await world.settle(from, to, 30_000);

      const resumed = rows.firstNewRowAfter(back);
      const streamed = stream.firstEventAfter(back);
      const unhealthy = health.firstAfter(down, 503);
      const healthy = health.firstAfter(back, 200);

      worker.signal('SIGTERM');
      api.signal('SIGTERM');
      const [workerExit, apiExit] = await Promise.all([worker.exited, api.exited]);
      const end = await stream.ended;

      recordRow({
        case: `${id} Redis down 10 s, ${how}`,
        ...figures,
        resume: `store ${resumed ?? '∞'} ms, stream ${streamed ?? '∞'} ms`,
        exitCodes: world.exitCodes(),
        notes:
          `healthz 503 after ${unhealthy ?? '–'} ms, 200 ${healthy ?? '–'} ms after restart; ` +
          `stream ended ${end.complete ? 'with complete' : `by ${end.error}`}`,
      });

      // No process logged an error that escaped every handler (cli.ts keeps such errors from killing it).
      expect(await world.logCount(/unhandled rejection|uncaught exception/)).toBe(0);
      expect(figures.lostFetched).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.wrongPrice).toBe(0);
      // With its data back, every job Redis held runs; emptied, only the one waiting job can be gone.
      expect(figures.slotsWithoutTick).toBeLessThanOrEqual(empty ? 1 : 0);
      expect(resumed).toBeDefined();
      expect(resumed!).toBeLessThanOrEqual(INTERVAL_MS);
      expect(streamed).toBeDefined();
      expect(unhealthy).toBeDefined();
      expect(healthy).toBeDefined();
      expect(workerExit.code).toBe(0);
      expect(apiExit.code).toBe(0);
      expect(end).toMatchObject({ complete: true, error: undefined });
    } finally {
      stream.close();
      await health.stop();
      await rows.stop();
    }
  });
});
