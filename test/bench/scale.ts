/**
 * P10 and P11 (issue 18, "Scale measured"): what a second API process behind the load balancer, and a
 * second and third worker process, add on this machine. Both run the built app (`bin/stockstreamer.js`)
 * as deployed, through the fault suite's helpers: `spawnRole`, `roleEnv` and Caddy from
 * `startLoadBalancer`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createDatabase } from '../../src/db/client.ts';
import { createTickRepository } from '../../src/db/tick-repository.ts';
import { serializeTicks } from '../../src/domain/tick.ts';
import { ticksChannel } from '../../src/tick-channel.ts';
import { type LoadBalancer, startLoadBalancer } from '../helpers/load-balancer.ts';
import { freePort } from '../helpers/ports.ts';
import { type RoleProcess, roleEnv, spawnRole } from '../helpers/roles.ts';
import { sleep } from '../helpers/servers.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  TEST_REDIS_URL,
  uniqueName,
} from '../helpers/services.ts';
import { now } from './client-process.ts';
import { benchTick, measure, message, QUERY, type Run, rawPayload, stop, subscribedCount } from './fanout.ts';
import { type Bench, type BenchRow, median, ms, percentile } from './harness.ts';
import { SYMBOLS, slotFigures } from './ingest.ts';

const count = (n: number) => n.toLocaleString('en');

/** The soft limit on open files of this process, which Caddy and the API processes inherit. */
function openFilesLimit(): number {
  const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line?.[1] === undefined || line[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line[1]);
}

/**
 * Caddy holds two descriptors per proxied stream (the client's and the upstream's), so it runs out of
 * descriptors first: steps stop below half the limit, with a thousand spare for everything else.
 */
function streamCap(): number {
  return Math.floor((openFilesLimit() - 1000) / 2);
}

const P10_STEPS = (process.env.BENCH_P10_STEPS ?? '1000,3000,5000,7000,9000')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const API_COUNTS = [1, 2] as const;
/** The P2 target: p99 ≤ this × the raw SSE server's at the same count. */
const TARGET_RATIO = 1.5;
/** An API count stops stepping up after this many misses in a row: a single miss may be the machine. */
const MISSES_TO_STOP = 2;

interface Step {
  count: number;
  raw: Run;
  apps: Partial<Record<(typeof API_COUNTS)[number], Run>>;
}

const p99 = (run: Run) => percentile(run.latencies, 99);
const meets = (app: Run, raw: Run) => app.missing === 0 && p99(app) <= TARGET_RATIO * p99(raw);

/** Redis NUMSUB of `channel` reaches `subscribers`: every server is listening for ticks. */
function untilSubscribed(redis: Redis, channel: string, subscribers: number) {
  return async () => {
    while ((await subscribedCount(redis, channel)) < subscribers) await sleep(50);
  };
}

/**
 * One step: `streams` SSE subscribers through a fresh Caddy, first to the raw SSE server (the baseline the
 * P2 target is relative to, behind the same proxy), then to 1 and to 2 fresh `api` processes. Each
 * measurement sends ROUNDS ticks, commit → parsed event, as P2 does.
 */
async function scaleStep(streams: number, apiCounts: readonly (typeof API_COUNTS)[number][]): Promise<Step> {
  const database = await createTestDatabase();
  const prefix = uniqueName('scale');
  const channel = ticksChannel(prefix);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stockstreamer-bench-scale-'));
  const redis = new Redis(TEST_REDIS_URL);
  const handle = createDatabase(database.url, silentLogger);
  const ticks = createTickRepository(handle.db);
  let raw: ChildProcess | undefined;
  let lb: LoadBalancer | undefined;
  let apis: RoleProcess[] = [];
  const endServers = async () => {
    // Caddy first (it holds both ends of every stream), then what stood behind it.
    await lb?.dispose();
    lb = undefined;
    await stop(raw);
    raw = undefined;
    await Promise.all(apis.map((api) => api.dispose()));
    apis = [];
  };
  try {
    raw = fork(new URL('./raw-sse-server.ts', import.meta.url), [TEST_REDIS_URL, `${channel}:raw`], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { port: rawPort } = await message<{ port: number }>(raw, 'listening');
    lb = await startLoadBalancer(path.join(dir, 'caddy-raw'), [`127.0.0.1:${rawPort}`]);
    const rawRun = await measure(
      streams,
      { script: 'sse-clients.ts', start: { url: `${lb.url}/`, method: 'GET' } },
      raw.pid,
      untilSubscribed(redis, `${channel}:raw`, 1),
      async (round) => {
        const payload = rawPayload(round);
        const sent = now();
        await redis.publish(`${channel}:raw`, payload);
        return sent;
      },
    );
    await endServers();

    const apps: Step['apps'] = {};
    for (const apiCount of apiCounts) {
      const ports = await Promise.all(Array.from({ length: apiCount }, () => freePort()));
      apis = ports.map((port, i) =>
        spawnRole(
          'api',
          roleEnv({ DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix }, dir, {
            PORT: String(port),
            LOG_LEVEL: 'warn',
            // Caddy is the one proxy in front, and every subscriber is this machine's one client process.
            TRUST_PROXY: '1',
            MAX_SUBSCRIPTIONS_PER_CLIENT: '50000',
            RATE_LIMIT_PER_MINUTE: '1000000',
          }),
          path.join(dir, `api-${apiCount}-${i}.log`),
        ),
      );
      await Promise.all(apis.map((api) => api.ready));
      lb = await startLoadBalancer(
        path.join(dir, `caddy-${apiCount}`),
        ports.map((port) => `127.0.0.1:${port}`),
      );
      // A minute of its own per measurement (a fresh database each step), so no insert collides.
      const minute = apiCount;
      apps[apiCount] = await measure(
        streams,
        {
          script: 'sse-clients.ts',
          start: { url: `${lb.url}/graphql`, method: 'POST', body: JSON.stringify({ query: QUERY }) },
        },
        undefined,
        untilSubscribed(redis, channel, apiCount),
        async (round) => {
          const stored = await ticks.insertTicks([benchTick(minute, round)]);
          const committed = now();
          await redis.publish(channel, serializeTicks(stored));
          return committed;
        },
      );
      await endServers();
    }
    return { count: streams, raw: rawRun, apps };
  } finally {
    await endServers();
    redis.disconnect();
    await handle.close();
    await removeRedisPrefix(prefix);
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The largest count at which `apiCount` processes met the target, and the smaller counts at which they
 * missed it: on a shared machine one step's tail can be another session's burst, so a miss below the
 * largest count is shown beside it rather than taken as the end.
 */
function served(steps: readonly Step[], apiCount: (typeof API_COUNTS)[number]) {
  const measured = steps.filter((step) => step.apps[apiCount]);
  const met = measured.filter((step) => meets(step.apps[apiCount]!, step.raw));
  const best = met.at(-1);
  const missedBelow = measured.filter((step) => !met.includes(step) && step.count < (best?.count ?? 0));
  return { best, missedBelow: missedBelow.map((step) => step.count) };
}

export const scaleApiBench: Bench = {
  id: 'P10',
  title: 'subscribers served at the P2 latency target by 1 and by 2 API processes behind Caddy',
  async run(): Promise<BenchRow[]> {
    const cap = streamCap();
    const steps: Step[] = [];
    const missesInARow: Record<number, number> = { 1: 0, 2: 0 };
    for (const streams of P10_STEPS.filter((n) => n <= cap)) {
      const apiCounts = API_COUNTS.filter((n) => missesInARow[n]! < MISSES_TO_STOP);
      if (apiCounts.length === 0) break;
      process.stderr.write(`  ${count(streams)} streams: raw, then ${apiCounts.join(' and ')} api\n`);
      const step = await scaleStep(streams, apiCounts);
      steps.push(step);
      for (const n of apiCounts) {
        missesInARow[n] = meets(step.apps[n]!, step.raw) ? 0 : missesInARow[n]! + 1;
      }
    }
    const one = served(steps, 1);
    const two = served(steps, 2);
    const at = ({ best, missedBelow }: ReturnType<typeof served>, n: 1 | 2) =>
      best
        ? `${count(best.count)} (p99 ${ms(p99(best.apps[n]!))}, raw ${ms(p99(best.raw))}${missedBelow.length ? `; missed at ${missedBelow.map(count).join(', ')}` : ''})`
        : 'none of the steps';
    const capped = P10_STEPS.filter((n) => n > cap);
    const last = steps.at(-1);
    // Both met the last step: the steps ended before either process count did.
    const bothAtLast = last !== undefined && one.best === last && two.best === last;
    const perStep = steps
      .map(
        (step) =>
          `${count(step.count)}: raw ${ms(p99(step.raw))}, ` +
          API_COUNTS.filter((n) => step.apps[n])
            .map((n) => {
              const run = step.apps[n]!;
              return `${n} api ${ms(p99(run))}${run.missing ? ` (${run.missing} missed)` : ''} ${meets(run, step.raw) ? 'met' : 'missed'}`;
            })
            .join(', '),
      )
      .join('; ');
    return [
      {
        id: 'P10',
        measure: `SSE subscribers served at the P2 target (p99 ≤ ${TARGET_RATIO}× raw SSE) through Caddy, by 1 and by 2 api processes`,
        figure: `2 api: ${at(two, 2)}`,
        baseline: `1 api: ${at(one, 1)}`,
        ratio: (two.best?.count ?? 0) / (one.best?.count ?? Number.NaN),
        target: '2 api serve more than 1, or both the largest step',
        met: (two.best?.count ?? 0) > (one.best?.count ?? 0) || bothAtLast,
        note:
          `P10 steps (fresh Caddy, raw SSE server and api processes at each, one client process; p99 of ${count(15)} ticks × the streams, commit → parsed event): ${perStep}. ` +
          `Raw is the bare SSE server behind the same Caddy, so the proxy is in the baseline too; an api count stops after ${MISSES_TO_STOP} misses in a row. ` +
          `Steps stop at ${count(cap)} streams: the open-files limit here is ${count(openFilesLimit())} and Caddy holds 2 per stream` +
          (capped.length ? ` (${capped.map(count).join(', ')} not run)` : '') +
          '. Clients, Caddy, the apis, Redis and PostgreSQL share the 2 cores',
      },
    ];
  },
};

const BACKLOG_JOBS = 40;
const BACKLOG_ROUNDS = 3;
const WARM_UP_JOBS_PER_WORKER = 4;
const WORKER_COUNTS = [1, 2, 3];
const SUSTAIN_MS = 30_000;

/** The `worker` role's environment for the 1,000 symbols, prices every `priceIntervalMs`. */
function workerEnv(databaseUrl: string, prefix: string, dir: string, priceIntervalMs: number) {
  return roleEnv({ DATABASE_URL: databaseUrl, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix }, dir, {
    SYMBOLS: SYMBOLS.join(','),
    PRICE_INTERVAL_MS: String(priceIntervalMs),
    LOG_LEVEL: 'warn',
    MARKET_CALENDAR: 'ignore',
  });
}

/** Waits until no job is waiting or running in `queues` (a scheduler's next slot, delayed, is not counted). */
async function untilIdle(queues: readonly Queue[]): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const counts = await Promise.all(queues.map((q) => q.getJobCounts('active', 'waiting', 'prioritized')));
    if (counts.every((c) => (c.active ?? 0) + (c.waiting ?? 0) + (c.prioritized ?? 0) === 0)) return;
    await sleep(100);
  }
  throw new Error('the start-up jobs did not finish in 120 s');
}

/** Adds `jobs` price jobs at once and resolves with them once every one has finished. */
async function drainBacklog(prices: Queue, jobs: number): Promise<Job[]> {
  const added = await prices.addBulk(
    Array.from({ length: jobs }, () => ({
      name: 'prices',
      data: {},
      opts: { removeOnComplete: false, removeOnFail: false },
    })),
  );
  for (;;) {
    const states = await Promise.all(added.map((job) => Job.fromId(prices, job.id!)));
    const failed = states.find((job) => job?.failedReason);
    if (failed) throw new Error(`price job ${failed.id} failed: ${failed.failedReason}`);
    if (states.every((job) => job?.finishedOn)) return states as Job[];
    await sleep(50);
  }
}

/**
 * Runs `use` with `workers` fresh worker processes on a fresh database and prefix, watching the 1,000
 * symbols with prices every `priceIntervalMs`, once they are ready; then ends them and drops what they made.
 */
async function withWorkers<T>(
  workers: number,
  priceIntervalMs: number,
  use: (prices: Queue) => Promise<T>,
): Promise<T> {
  const database = await createTestDatabase();
  const prefix = uniqueName('workers');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stockstreamer-bench-workers-'));
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const [prices, ...others] = ['prices', 'logos', 'highlow'].map(
    (name) => new Queue(name, { connection, prefix }),
  );
  const processes = Array.from({ length: workers }, (_, i) =>
    spawnRole(
      'worker',
      workerEnv(database.url, prefix, dir, priceIntervalMs),
      path.join(dir, `worker-${i}.log`),
    ),
  );
  try {
    await Promise.all(processes.map((p) => p.ready));
    // The start-up jobs: logos and 52-week ranges for 1,000 tickers.
    await untilIdle(others);
    return await use(prices!);
  } finally {
    await Promise.all(processes.map((p) => p.dispose()));
    await Promise.all([prices!, ...others].map((q) => q.close()));
    connection.disconnect();
    await removeRedisPrefix(prefix);
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `workers` worker processes and BACKLOG_ROUNDS backlogs of BACKLOG_JOBS price jobs added at once: each
 * backlog's ticks stored per second, from the add to the last job's finish, and what its jobs stored of
 * what they fetched.
 */
function drain(workers: number): Promise<{ rates: number[]; stored: number; asked: number }> {
  return withWorkers(workers, 3_600_000, async (prices) => {
    // The scheduler's first slot, then, unmeasured, every process's first price jobs: they pay once for
    // its pools and for compiling the job's path (the first backlog drained 40–50 % slower without this).
    await untilIdle([prices]);
    await drainBacklog(prices, WARM_UP_JOBS_PER_WORKER * workers);
    const rates: number[] = [];
    let stored = 0;
    let asked = 0;
    for (let round = 0; round < BACKLOG_ROUNDS; round++) {
      const started = Date.now();
      const done = await drainBacklog(prices, BACKLOG_JOBS);
      const finished = Math.max(...done.map((job) => job.finishedOn!));
      const roundStored = done.reduce((n, job) => n + (job.returnvalue as { stored: number }).stored, 0);
      stored += roundStored;
      asked += BACKLOG_JOBS * SYMBOLS.length;
      rates.push(roundStored / ((finished - started) / 1000));
    }
    return { rates, stored, asked };
  });
}

/** `workers` worker processes sharing a 1 s price scheduler for SUSTAIN_MS: each slot's lag, and misses. */
function sustained(workers: number) {
  return withWorkers(workers, 1000, async (prices) => {
    const from = Date.now();
    await sleep(SUSTAIN_MS);
    const to = Date.now();
    return slotFigures(await prices.getJobs(['completed'], 0, 10_000), from, to);
  });
}

export const scaleWorkerBench: Bench = {
  id: 'P11',
  title: 'price throughput of 1, 2 and 3 worker processes at 1,000 tickers',
  async run(): Promise<BenchRow[]> {
    const drains: Record<number, Awaited<ReturnType<typeof drain>>> = {};
    for (const workers of WORKER_COUNTS) {
      process.stderr.write(`  ${workers} worker process(es): ${BACKLOG_ROUNDS} backlogs\n`);
      drains[workers] = await drain(workers);
    }
    const rate = (workers: number) => median(drains[workers]!.rates);
    const perSecond = (value: number) => `${count(Math.round(value))}/s`;
    const most = WORKER_COUNTS.at(-1)!;
    const lost = WORKER_COUNTS.map((w) => drains[w]!.asked - drains[w]!.stored);
    const { lags, durations, slots, missed } = await sustained(most);
    return [
      {
        id: 'P11',
        measure: `ticks stored/s draining a backlog of price jobs (1,000 symbols each) by ${WORKER_COUNTS.join(', ')} worker processes`,
        figure: WORKER_COUNTS.map((w) => `${w}: ${perSecond(rate(w))}`).join(', '),
        baseline: `1 worker ${perSecond(rate(1))}`,
        ratio: rate(most) / rate(1),
        target: `${most} workers ≥ 1 worker`,
        met: rate(most) >= rate(1),
        note:
          `P11 drain: per worker count, fresh processes and database; ${BACKLOG_ROUNDS} backlogs of ${BACKLOG_JOBS} price jobs (the simulated provider, ${count(BACKLOG_JOBS * SYMBOLS.length)} ticks) added at once, from the add to the last job's finish, median shown (per backlog: ` +
          WORKER_COUNTS.map(
            (w) => `${w}: ${drains[w]!.rates.map((r) => count(Math.round(r))).join('/')}`,
          ).join('; ') +
          `); ratio is ${most} workers ÷ 1. Ticks a job fetched but did not store (another job observed the same millisecond): ${lost.join('/')}. ` +
          'Every process, PostgreSQL and Redis share 2 cores, so more processes add concurrency, not CPU',
      },
      {
        id: 'P11',
        measure: `1,000 symbols every 1 s for 30 s, ${most} worker processes on one scheduler: slot → ticks stored`,
        figure: `lag p50 ${ms(median(lags))}, p99 ${ms(percentile(lags, 99))}; ${slots} slots, ${missed} missed`,
        baseline: `interval 1000 ms; job run p50 ${ms(median(durations))}`,
        ratio: 1000 / percentile(lags, 99),
        target: 'lag < 1 interval, 0 missed',
        met: percentile(lags, 99) < 1000 && missed === 0,
      },
    ];
  },
};
