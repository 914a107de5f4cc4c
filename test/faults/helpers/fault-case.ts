import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from '../../helpers/ports.ts';
import {
  caseDir,
  type Exit,
  INTERVAL_MS,
  type RoleProcess,
  roleEnv,
  SEED,
  SYMBOLS,
  spawnRole,
} from '../../helpers/roles.ts';
import {
  createPrivatePostgres,
  createPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
  sleep,
} from '../../helpers/servers.ts';
import { createTestDatabase, uniqueName } from '../../helpers/services.ts';
import { type Tally, tally, watchSlots } from './observe.ts';

/**
 * One case's world: its own redis-server (always: cases stop and empty it), a database (a private
 * PostgreSQL when the case restarts it, otherwise a fresh database on the machine's server), a BullMQ prefix,
 * the app processes it spawned, and the ledger of scheduler slots. `dispose()` ends exactly what it started.
 */
export async function createFaultCase(name: string, options: { privatePostgres?: boolean } = {}) {
  const folder = await caseDir(name);
  const processes: RoleProcess[] = [];
  const exits: { role: string; pid: number; exit: Exit }[] = [];
  let redis: PrivateRedis | undefined;
  let postgres: PrivatePostgres | undefined;
  let sharedDatabase: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let ledger: ReturnType<typeof watchSlots> | undefined;
  /** Ends what the case started; keeps its folder (logs, server data) when `keep`, saying where. */
  const dispose = async (options: { keep?: boolean } = {}) => {
    await ledger?.stop();
    await Promise.all(processes.map((p) => p.dispose()));
    await redis?.dispose();
    await postgres?.dispose();
    await sharedDatabase?.drop().catch(() => {});
    if (options.keep) console.log(`fault case ${name}: logs and data kept in ${folder.dir}`);
    else await folder.remove();
  };
  try {
    redis = await createPrivateRedis(path.join(folder.dir, 'redis'));
    let databaseUrl: string;
    if (options.privatePostgres) {
      postgres = await createPrivatePostgres(path.join(folder.dir, 'postgres'));
      databaseUrl = postgres.url;
    } else {
      sharedDatabase = await createTestDatabase({ migrate: false });
      databaseUrl = sharedDatabase.url;
    }
    const prefix = uniqueName('faults');
    ledger = watchSlots(redis.url, prefix);
    const slots = ledger;
    let count = 0;

    const env = (extra: Record<string, string> = {}) =>
      roleEnv({ DATABASE_URL: databaseUrl, REDIS_URL: redis!.url, QUEUE_PREFIX: prefix }, folder.dir, extra);

    return {
      dir: folder.dir,
      redis,
      postgres,
      databaseUrl,
      prefix,
      slots,
      exits,
      /** Starts `node bin/stockstreamer.js <role>`; an `api` or `start` gets a port of its own. */
      async spawn(role: 'worker' | 'api' | 'start', extra: Record<string, string> = {}) {
        const port = role === 'worker' ? '0' : String(await freePort());
        const logFile = path.join(folder.dir, `${role}-${++count}.log`);
        const child = spawnRole(role, env({ PORT: port, ...extra }), logFile);
        processes.push(child);
        void child.exited.then((exit) => exits.push({ role, pid: child.pid, exit }));
        return Object.assign(child, { url: role === 'worker' ? undefined : `http://127.0.0.1:${port}` });
      },
      /** Counts what was stored against every slot seen in [from, to]. */
      async tally(from: number, to: number): Promise<Tally> {
        await slots.poll();
        return tally({
          databaseUrl,
          slots: slots.slots,
          fetched: slots.fetched,
          from,
          to,
          intervalMs: INTERVAL_MS,
          seed: SEED,
          symbols: SYMBOLS,
        });
      },
      /**
       * Waits until every slot in [from, to] has its ticks stored, or until no job of those slots is left
       * to run (waiting, delayed, active) for a few seconds in a row; then counts. Bounded by `timeoutMs`.
       */
      settle(from: number, to: number, timeoutMs: number): Promise<Tally> {
        return settleSlots(redis!.url, prefix, () => this.tally(from, to), to, timeoutMs);
      },
      /** How many log lines of all the processes so far carry a message matching `pattern`. */
      async logCount(pattern: RegExp): Promise<number> {
        let count = 0;
        for (const child of processes) {
          const text = await readFile(child.logFile, 'utf8').catch(() => '');
          for (const line of text.split('\n')) {
            if (!line.startsWith('{')) continue;
            const msg = (JSON.parse(line) as { msg?: string }).msg;
            if (msg && pattern.test(msg)) count++;
          }
        }
        return count;
      },
      exitCodes(): string {
        return exits.map((e) => `${e.role}:${e.exit.code ?? e.exit.signal}`).join(' ');
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Waits until every slot up to `to` has its ticks stored (by `count`), or until no job of those slots is
 * left to run (waiting, delayed, active) for a few seconds in a row; then counts. Bounded by `timeoutMs`.
 */
export async function settleSlots(
  redis: string | RedisOptions,
  prefix: string,
  count: () => Promise<Tally>,
  to: number,
  timeoutMs: number,
): Promise<Tally> {
  const options: RedisOptions = { maxRetriesPerRequest: null };
  const connection =
    typeof redis === 'string' ? new Redis(redis, options) : new Redis({ ...redis, ...options });
  connection.on('error', () => {});
  const queue = new Queue('prices', { connection, prefix });
  queue.on('error', () => {});
  try {
    const deadline = Date.now() + timeoutMs;
    let idle = 0;
    for (;;) {
      const counted = await count();
      if (counted.slotsWithoutTick === 0 || Date.now() > deadline) return counted;
      const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
      const pending = jobs.filter((job) => {
        const slot = Number(/:(\d+)$/.exec(job.id ?? '')?.[1]);
        return Number.isFinite(slot) && slot <= to;
      });
      idle = pending.length === 0 ? idle + 1 : 0;
      if (idle >= 3) return counted;
      await sleep(1000);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export type FaultCase = Awaited<ReturnType<typeof createFaultCase>>;
