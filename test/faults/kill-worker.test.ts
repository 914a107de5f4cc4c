import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { INTERVAL_MS, type RoleProcess } from '../helpers/roles.ts';
import { sleep } from '../helpers/servers.ts';
import { createFaultCase, type FaultCase } from './helpers/fault-case.ts';
import { recordRow } from './helpers/report.ts';

const KILLS = 20;

/**
 * Case 1: three worker processes share the queues; they are killed with SIGKILL twenty times in turn (each
 * started again at once, as systemd would), never leaving none running. Two kills in three come the instant
 * a price job starts, so that many land mid-job (after the fetch, before or during the write, or between
 * BullMQ taking the job and queueing the next slot); the others at a random moment.
 *
 * Expected: every slot's ticks are stored exactly once with the provider's price for that slot. A job
 * killed mid-way is recovered as stalled (after its 30 s lock) and run again with the quotes it kept; a
 * scheduler chain broken by a kill is put back by the surviving worker's keeper.
 */
describe('fault: kill -9 a worker', () => {
  let world: FaultCase | undefined;
  afterEach(async (context) => {
    await world?.dispose({ keep: context.task.result?.state === 'fail' });
    world = undefined;
  });

  it(`1: a worker killed with SIGKILL ${KILLS} times during a run`, async () => {
    world = await createFaultCase('kill');
    const workers: RoleProcess[] = [];
    for (let i = 0; i < 3; i++) workers.push(await world.spawn('worker'));
    await Promise.all(workers.map((w) => w.ready));
    const connection = new Redis(world.redis.url, { maxRetriesPerRequest: null });
    const events = new QueueEvents('prices', { connection, prefix: world.prefix });
    let stalled = 0;
    let onActive: (() => void) | undefined;
    events.on('stalled', () => stalled++);
    events.on('active', () => onActive?.());
    try {
      await events.waitUntilReady();
      await sleep(3 * INTERVAL_MS);
      const from = Math.min(...world.slots.slots);

      let midJob = 0;
      for (let i = 0; i < KILLS; i++) {
        const index = i % workers.length;
        // Each kill hits a running worker, and someone is left to do the work: another worker is up too.
        await workers[index]!.ready;
        await Promise.any(workers.filter((_, j) => j !== index).map((w) => w.ready));
        if (i % 3 !== 2) {
          await new Promise<void>((resolve) => {
            onActive = resolve;
          });
          onActive = undefined;
          midJob++;
        } else {
          await sleep(200 + Math.random() * 800);
        }
        workers[index]!.signal('SIGKILL');
        await workers[index]!.exited;
        // Started again at once, as systemd would; it has the next two kills' time to come up.
        workers[index] = await world.spawn('worker');
        await sleep(Math.random() * 300);
      }
      await Promise.all(workers.map((w) => w.ready));

      await sleep(3 * INTERVAL_MS);
      const to = Date.now();
      // A job killed mid-way waits out its lock (30 s) and the stalled check (every 30 s).
      const figures = await world.settle(from, to, 150_000);
      const repaired = await world.logCount(/price scheduler stopped at a job/);
      for (const worker of workers) worker.signal('SIGTERM');
      const exits = await Promise.all(workers.map((w) => w.exited));

      recordRow({
        case: `1 kill -9 a worker ${KILLS}×`,
        ...figures,
        resume: '–',
        exitCodes: `${KILLS}× SIGKILL, last three: ${exits.map((e) => e.code).join(' ')}`,
        notes:
          `${midJob} kills at a job's start; ${stalled} jobs recovered as stalled; ` +
          `scheduler chain put back ${repaired}×`,
      });

      expect(world.exits.filter((e) => e.exit.signal === 'SIGKILL')).toHaveLength(KILLS);
      // No process logged an error that escaped every handler (cli.ts keeps such errors from killing it).
      expect(await world.logCount(/unhandled rejection|uncaught exception/)).toBe(0);
      expect(figures.lostFetched).toBe(0);
      expect(figures.slotsWithoutTick).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.wrongPrice).toBe(0);
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    } finally {
      await events.close();
      connection.disconnect();
    }
  });
});
