import { afterEach, describe, expect, it } from 'vitest';
import { INTERVAL_MS } from '../helpers/roles.ts';
import { sleep } from '../helpers/servers.ts';
import { createFaultCase, type FaultCase } from './helpers/fault-case.ts';
import { watchHealth, watchRows } from './helpers/observe.ts';
import { recordRow } from './helpers/report.ts';

const OUTAGE_MS = 30_000;

/**
 * Case 3: PostgreSQL stopped (fast shutdown) for 30 s and started again, under a worker and an API.
 *
 * Expected: the worker keeps taking each slot's observation during the outage (the watchlist comes from
 * its last known copy in Redis), each write fails and is retried with backoff, and jobs whose attempts run
 * out are held rather than failed; once Postgres is back every tick fetched meanwhile is stored, once.
 * /healthz says 503 while Postgres is away.
 */
describe('fault: PostgreSQL restarts', () => {
  let world: FaultCase | undefined;
  afterEach(async (context) => {
    await world?.dispose({ keep: context.task.result?.state === 'fail' });
    world = undefined;
  });

  it('3: Postgres stopped for 30 s; the ticks fetched meanwhile are stored afterwards', async () => {
    world = await createFaultCase('postgres', { privatePostgres: true });
    const postgres = world.postgres!;
    const worker = await world.spawn('worker');
    const api = await world.spawn('api');
    await Promise.all([worker.ready, api.ready]);
    const health = watchHealth(`${api.url}/healthz`);
    const rows = watchRows(world.databaseUrl);
    try {
      await sleep(4 * INTERVAL_MS);
      const from = Math.min(...world.slots.slots);

      const down = Date.now();
      await postgres.stop();
      await sleep(OUTAGE_MS);
      const back = await postgres.start();

      await sleep(3 * INTERVAL_MS);
      const to = Date.now();
      const figures = await world.settle(from, to, 120_000);
      const drained = Date.now() - back;
      // The slots whose second fell inside the outage: fetched while Postgres was away, stored after.
      const during = await world.tally(down, back);

      const resumed = rows.firstNewRowAfter(back);
      const unhealthy = health.firstAfter(down, 503);
      const healthy = health.firstAfter(back, 200);
      worker.signal('SIGTERM');
      api.signal('SIGTERM');
      const [workerExit, apiExit] = await Promise.all([worker.exited, api.exited]);

      recordRow({
        case: '3 Postgres down 30 s',
        ...figures,
        resume: `first store ${resumed ?? '∞'} ms, all stored ${drained} ms`,
        exitCodes: world.exitCodes(),
        notes:
          `${during.slots} slots during the outage: ${during.ticksStored}/${during.ticksExpected} ticks stored; ` +
          `healthz 503 after ${unhealthy ?? '–'} ms, 200 ${healthy ?? '–'} ms after restart`,
      });

      expect(during.slots).toBeGreaterThanOrEqual(OUTAGE_MS / INTERVAL_MS - 3);
      expect(during.ticksStored).toBe(during.ticksExpected);
      // No process logged an error that escaped every handler (cli.ts keeps such errors from killing it).
      expect(await world.logCount(/unhandled rejection|uncaught exception/)).toBe(0);
      expect(figures.lostFetched).toBe(0);
      expect(figures.slotsWithoutTick).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.wrongPrice).toBe(0);
      expect(figures.gapSlots).toBe(0);
      expect(resumed).toBeDefined();
      expect(unhealthy).toBeDefined();
      expect(healthy).toBeDefined();
      expect(workerExit.code).toBe(0);
      expect(apiExit.code).toBe(0);
    } finally {
      await health.stop();
      await rows.stop();
    }
  });
});
