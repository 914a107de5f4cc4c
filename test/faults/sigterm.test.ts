import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { INTERVAL_MS } from '../helpers/roles.ts';
import { sleep, waitFor } from '../helpers/servers.ts';
import { createFaultCase, type FaultCase } from './helpers/fault-case.ts';
import { recordRow } from './helpers/report.ts';

/** What systemd allows a stop, and what the issue asks for. */
const STOP_BUDGET_MS = 10_000;

/**
 * Holds a SHARE lock on stock_prices in an open transaction: the next price job fetches, keeps its quotes
 * in the job, and then waits on its INSERT until `release()`. That is how these cases have a job in flight
 * for as long as they want, without any test hook in the product.
 */
async function blockPriceWrites(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('begin');
  await client.query('lock table stock_prices in share mode');
  return {
    /** Resolves once a price job's INSERT is waiting on the lock. */
    async jobWaiting() {
      const sessions = () =>
        client.query<{ state: string; wait_event_type: string | null; query: string }>(
          `select state, wait_event_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 60) as query
           from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
        );
      try {
        // Asked of pg_locks, not of the sessions' query text: a statement can wait for its table lock while
        // parsing (extended protocol), before pg_stat_activity shows its text.
        await waitFor(
          'a price job blocked on its insert',
          async () =>
            (
              await client.query(
                `select 1 from pg_locks l join pg_class c on c.oid = l.relation
                 where c.relname = 'stock_prices' and l.mode = 'RowExclusiveLock' and not l.granted`,
              )
            ).rowCount! > 0,
          30_000,
          20,
        );
      } catch (error) {
        const now = (await sessions()).rows.map((s) => `${s.state}/${s.wait_event_type}: ${s.query}`);
        throw new Error(`${(error as Error).message}; sessions: ${JSON.stringify(now)}`);
      }
    },
    async release() {
      await client.query('commit');
      await client.end();
    },
  };
}

function pricesQueue(world: FaultCase) {
  const connection = new Redis(world.redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => {});
  const queue = new Queue('prices', { connection, prefix: world.prefix });
  return {
    queue,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

/**
 * Case 4: SIGTERM while a price job is in flight (its write held up by a table lock).
 *
 * Expected: the worker stops taking jobs and finishes the one it holds when it can within its grace; when it
 * cannot, it puts the job back in the queue (with the quotes it fetched) and still exits 0 within 10 s, and
 * the next worker stores that job's ticks, once. A second signal exits at once.
 */
describe('fault: SIGTERM during a job', () => {
  let world: FaultCase | undefined;
  afterEach(async (context) => {
    await world?.dispose({ keep: context.task.result?.state === 'fail' });
    world = undefined;
  });

  it.each([
    ['4a', 'finishes within the grace', 3000],
    ['4b', 'outlasts the grace', 15_000],
  ])('%s: the job in flight %s', async (id, how, lockMs) => {
    world = await createFaultCase(`sigterm-${id}`);
    const { queue, close } = pricesQueue(world);
    try {
      const first = await world.spawn('worker');
      await first.ready;
      await sleep(3 * INTERVAL_MS);
      const from = Math.min(...world.slots.slots);

      const lock = await blockPriceWrites(world.databaseUrl);
      await lock.jobWaiting();
      const [active] = await queue.getActive();
      expect(active?.data).toHaveProperty('quotes');
      const termAt = Date.now();
      first.signal('SIGTERM');
      const released = sleep(lockMs).then(() => lock.release());
      const exit = await first.exited;
      const stopMs = exit.at - termAt;
      const stateAfterExit = await queue.getJobState(active!.id!);

      // As systemd would, start a worker again; it carries on where the first stopped.
      const second = await world.spawn('worker');
      await second.ready;
      await released;
      await sleep(3 * INTERVAL_MS);
      const to = Date.now();
      const figures = await world.settle(from, to, 60_000);
      const job = await queue.getJob(active!.id!);
      second.signal('SIGTERM');
      await second.exited;

      recordRow({
        case: `${id} SIGTERM, job in flight ${how}`,
        ...figures,
        resume: `worker stopped in ${stopMs} ms`,
        exitCodes: world.exitCodes(),
        notes:
          `write held ${lockMs / 1000} s; job ${stateAfterExit} at exit, then ${await job?.getState()} ` +
          `after ${job?.attemptsMade} attempt(s), ${job?.stacktrace?.length ?? 0} failed; skipped slots: no worker between the two`,
      });

      expect(exit.code).toBe(0);
      expect(stopMs).toBeLessThan(STOP_BUDGET_MS);
      // Finished by the stopping worker, or handed back (waiting) for the next one: never left dangling.
      expect(stateAfterExit).toBe(lockMs < 5000 ? 'completed' : 'waiting');
      expect(await job?.getState()).toBe('completed');
      // One attempt, and it did not fail: put back is not a failure (attemptsMade counts the success).
      expect(job?.attemptsMade).toBe(1);
      expect(job?.stacktrace ?? []).toEqual([]);
      // No process logged an error that escaped every handler (cli.ts keeps such errors from killing it).
      expect(await world.logCount(/unhandled rejection|uncaught exception/)).toBe(0);
      expect(figures.lostFetched).toBe(0);
      expect(figures.slotsWithoutTick).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(figures.wrongPrice).toBe(0);
      expect(world.exits.every((e) => e.exit.code === 0)).toBe(true);
    } finally {
      await close();
    }
  });

  it('4c: a second signal exits at once', async () => {
    world = await createFaultCase('sigterm-4c');
    const worker = await world.spawn('worker');
    await worker.ready;
    const lock = await blockPriceWrites(world.databaseUrl);
    try {
      await lock.jobWaiting();
      worker.signal('SIGTERM');
      await sleep(500);
      const secondAt = Date.now();
      worker.signal('SIGTERM');
      const exit = await worker.exited;
      recordRow({
        case: '4c second SIGTERM during a stop',
        resume: `exited ${exit.at - secondAt} ms after the second signal`,
        exitCodes: world.exitCodes(),
        notes: 'the job it held is left to stalled-job recovery (case 1 shows that path)',
      });
      expect(exit.code).toBe(143);
      expect(exit.at - secondAt).toBeLessThan(1000);
    } finally {
      await lock.release();
    }
  });
});
