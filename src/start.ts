import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { trackInFlight } from '../jobs/in-flight.ts';
import { closeQueues, createQueues, type Queues } from '../jobs/queues.ts';
import { keepSchedulers } from '../jobs/scheduler-keeper.ts';
import { queueMissingRefresh, type RunningWorkers, startWorkers } from '../jobs/workers.ts';
import type { Config } from './config.ts';
import { createHistoryCache, type HistoryCache } from './db/history-cache.ts';
import { runMigrations } from './db/migrate.ts';
import { startRollupFolding } from './db/rollup-folder.ts';
import { outcomeWithin } from './deadline.ts';
import { createDeps, type Deps, type DepsOverrides } from './deps.ts';
import { parseTicks } from './domain/tick.ts';
import { warnIfRedisMayEvict } from './redis/eviction-policy.ts';
import type { AdminMode } from './server/security.ts';
import { ticksChannel } from './tick-channel.ts';
import { startWorkerProcess, type WorkerCommand } from './worker-process.ts';

/** Which parts run in this process: the API, the workers, or both (the newcomer's default). */
export type Role = 'start' | 'api' | 'worker';

export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/web');

export interface Running {
  deps: Deps;
  /** Base URL of the HTTP server, for the api and start roles. */
  url: string | undefined;
  /** Who may use admin (Bull Board, /metrics, watchlist edits), for the api and start roles. */
  adminMode: AdminMode | undefined;
  /** The BullMQ workers, when they run in this process. */
  workers: RunningWorkers | undefined;
  /** The PID of the worker process, when `start` runs the workers in a child process. */
  workerPid: (() => number | undefined) | undefined;
  /**
   * Stops HTTP and the workers together (no new requests, no new jobs; open subscription streams are
   * ended, jobs in flight finish or go back to their queue), then clients and child servers. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * How long a stopping worker waits for the jobs it is running. It must leave room, inside the 10 s a stop
 * may take (src/cli.ts), to put back what did not finish and to close the clients after it.
 */
export const WORKER_GRACE_MS = 6500;
/** How long open HTTP connections get to finish after their streams were told to end. */
export const HTTP_GRACE_MS = 1500;

export interface StartOptions extends DepsOverrides {
  /**
   * For `start`: run the workers in a child process of this command (the CLI's own binary) instead of in
   * this process, so that the API's event loop, however busy, delays no price slot. Without it (tests
   * that drive the workers with a manual clock), `start` runs both in one process.
   */
  workerProcess?: WorkerCommand;
}

/**
 * The top of the composition: builds Deps once, migrates and seeds, then starts what the role asks for.
 * This is the only module that ties src/, jobs/ and graphql/ together.
 */
export async function startRole(role: Role, config: Config, options: StartOptions = {}): Promise<Running> {
  const { workerProcess, ...overrides } = options;
  const deps = await createDeps(config, overrides);
  // Stopped together, before the clients and servers they use (deps.close).
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    await Promise.all(
      stops
        .splice(0)
        .map((stop) =>
          stop().catch((error: unknown) => deps.logger.warn({ err: error }, 'error while stopping')),
        ),
    );
    await deps.close();
  };

  try {
    void warnIfRedisMayEvict(deps.redis, deps.logger);
    await runMigrations(deps.databaseUrl);
    await deps.watchlist.seed(config.symbols);
    const folding = startRollupFolding(deps.ticks, deps.logger);
    stops.push(folding.stop);

    let workers: RunningWorkers | undefined;
    let workerPid: Running['workerPid'];
    const runsWorkers = role === 'worker' || role === 'start';
    // Started alongside the API: the child's start-up (a second runtime, its own clients) overlaps ours.
    const child =
      runsWorkers && role === 'start' && workerProcess
        ? startWorkerProcess({
            command: workerProcess,
            databaseUrl: deps.databaseUrl,
            redisUrl: deps.redisUrl,
            logger: deps.logger,
          }).then((supervised) => {
            stops.push(supervised.stop);
            workerPid = supervised.pid;
          })
        : undefined;
    if (runsWorkers && !child) {
      workers = await startWorkers(deps);
      stops.push(superviseWorkers(deps, workers));
    }

    let url: string | undefined;
    let adminMode: AdminMode | undefined;
    try {
      if (role === 'start' || role === 'api') {
        const server = await startApi(deps);
        stops.push(server.close);
        url = server.url;
        adminMode = server.adminMode;
      }
    } finally {
      // Awaited even when the API failed, so that a child being started is stopped with the rest.
      await child?.catch(() => {});
    }
    await child;

    let closing: Promise<void> | undefined;
    return {
      deps,
      url,
      adminMode,
      workers,
      workerPid,
      close: () => {
        closing ??= stopAll();
        return closing;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * What a worker process adds around its BullMQ workers: a keeper that puts the schedulers back when Redis
 * lost them (jobs/scheduler-keeper.ts), and a bounded stop. Returns that stop.
 */
function superviseWorkers(deps: Deps, workers: RunningWorkers): () => Promise<void> {
  const { config, logger } = deps;
  const keeper = keepSchedulers({
    queues: workers.queues,
    schedule: config.schedule,
    redis: deps.redis,
    logger,
    // Often enough to heal within a few intervals, rarely enough to cost nothing (three small reads).
    everyMs: Math.min(10_000, Math.max(1000, config.schedule.priceIntervalMs)),
  });
  const inFlight = trackInFlight(Object.values(workers.workers));
  quietQueueErrors(workers.queues, logger);
  return async () => {
    keeper.stop();
    const closed = workers.close();
    if (await settlesWithin(closed, WORKER_GRACE_MS)) return;
    // A job that cannot finish in time (a write stuck on a lock, a provider that hangs) goes back to its
    // queue now, with what it fetched, rather than waiting out its lock for stalled-job recovery.
    const running = inFlight.size;
    if (running === 0) {
      logger.warn({ graceMs: WORKER_GRACE_MS }, 'workers did not close in time (is Redis away?); moving on');
      return;
    }
    const handed = await valueWithin(inFlight.handBack(), 1000, 0);
    logger.warn(
      { running, handedBack: handed, graceMs: WORKER_GRACE_MS },
      'jobs still running at the shutdown deadline were put back in their queues',
    );
  };
}

/**
 * A BullMQ Queue without an 'error' listener prints each of its connection's errors to stderr, several a
 * second while Redis is away. The client already logs them (deps.ts); these go to debug.
 */
function quietQueueErrors(queues: Queues, logger: Deps['logger']): void {
  for (const [name, queue] of Object.entries(queues)) {
    queue.on('error', (error) => logger.debug({ queue: name, err: error }, 'queue: redis connection error'));
  }
}

/** Resolves `promise`'s value, or `fallback` when it rejects or has not settled within `ms`. Never rejects. */
async function valueWithin<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let value = fallback;
  const kept = promise.then((resolved) => {
    value = resolved;
  });
  return (await outcomeWithin(kept, ms)) === 'resolved' ? value : fallback;
}

/** True when `promise` settles (either way) within `ms`. The promise keeps running regardless. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return (await outcomeWithin(promise, ms)) !== 'timeout';
}

async function startApi(deps: Deps): Promise<{ url: string; adminMode: AdminMode; close(): Promise<void> }> {
  const { config } = deps;
  // Loaded here, not at the top: a worker never needs the HTTP side, and skipping Yoga, Koa and Bull Board
  // takes seconds off every worker (re)start, which is how long its share of slots waits after a crash.
  const [
    { createTickPubSub },
    { createGraphqlServer },
    { createRequestListener, MAX_GRAPHQL_BODY_BYTES },
    { createHealthCheck },
    { createAdminAuth },
    { createClientLimits },
    { createUpgradeHandler },
  ] = await Promise.all([
    import('../graphql/pubsub.ts'),
    import('../graphql/yoga.ts'),
    import('./server/app.ts'),
    import('./server/health.ts'),
    import('./server/security.ts'),
    import('./server/client-limits.ts'),
    import('./server/websocket-upgrade.ts'),
  ]);
  const queues = createQueues(deps.createRedis('bull-board'), config.queuePrefix);
  quietQueueErrors(queues, deps.logger);
  const adminAuth = createAdminAuth(config);
  const ticksSubscriber = deps.createRedis('ticks-subscriber');
  const pubSub = createTickPubSub({ publishClient: deps.redis, subscribeClient: ticksSubscriber });
  const ticksTopic = ticksChannel(config.queuePrefix);
  const history = createHistoryCache(deps.ticks, { now: () => deps.clock.now().getTime() });
  void forgetStoredTicks(pubSub.subscribe(ticksTopic), history, deps.logger);
  // Ticks published while the subscription was down were never heard: cached history may lack them.
  ticksSubscriber.on('ready', () => history.clear());
  const { yoga, subscriptions, webSockets } = createGraphqlServer({
    logger: deps.logger,
    watchlist: deps.watchlist,
    priceHistory: history.history,
    pubSub,
    ticksTopic,
    now: () => deps.clock.now(),
    adminMode: adminAuth.mode,
    allowedOrigins: config.security.allowedOrigins,
    onWatchlistChanged: () => queueMissingRefresh(deps, queues),
    maxWebSocketMessageBytes: MAX_GRAPHQL_BODY_BYTES,
  });
  // One allowance per client across SSE, plain HTTP and WebSocket.
  const clientLimits = createClientLimits({
    perMinute: config.security.rateLimitPerMinute,
    maxStreams: config.security.maxSubscriptionsPerClient,
  });
  // A health probe must answer "down" at once during an outage, not queue the PING until Redis is back.
  const healthRedis = deps.createRedis('health', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const health = createHealthCheck({ pool: deps.database.pool, redis: healthRedis });
  const requestListener = createRequestListener({
    logger: deps.logger,
    graphql: yoga,
    subscriptions,
    security: config.security,
    adminAuth,
    clientLimits,
    health,
    metrics: async () => {
      const [report, counts, backlog] = await Promise.all([
        health(),
        Promise.all(
          Object.entries(queues).map(async ([name, queue]) => [name, await queue.getJobCounts()] as const),
        ).catch(() => []),
        deps.ticks.rollupBacklog().catch(() => undefined),
      ]);
      const { subscribers, cohorts } = subscriptions.stats();
      return [
        {
          name: 'stockstreamer_up',
          help: 'Whether Postgres and Redis answer (1) or not (0).',
          type: 'gauge',
          values: [
            { labels: { backend: 'postgres' }, value: report.postgres ? 1 : 0 },
            { labels: { backend: 'redis' }, value: report.redis ? 1 : 0 },
          ],
        },
        {
          name: 'stockstreamer_subscribers',
          help: 'Open GraphQL subscriptions (SSE streams and graphql-ws subscriptions).',
          type: 'gauge',
          values: [{ value: subscribers }],
        },
        {
          name: 'stockstreamer_websockets',
          help: 'Open graphql-ws WebSockets.',
          type: 'gauge',
          values: [{ value: webSockets.stats().sockets }],
        },
        {
          name: 'stockstreamer_subscription_cohorts',
          help: 'Distinct subscription operations being executed.',
          type: 'gauge',
          values: [{ value: cohorts }],
        },
        {
          name: 'stockstreamer_jobs',
          help: 'BullMQ jobs by queue and state.',
          type: 'gauge',
          values: counts.flatMap(([queue, byState]) =>
            Object.entries(byState).map(([state, value]) => ({ labels: { queue, state }, value })),
          ),
        },
        ...(backlog
          ? [
              {
                name: 'stockstreamer_rollup_log_rows',
                help: 'Rows in the rollup log that no fold has taken yet (a few in steady state).',
                type: 'gauge' as const,
                values: [{ value: backlog.rows }],
              },
              {
                name: 'stockstreamer_rollup_log_oldest_age_seconds',
                help: 'Age of the oldest minute the rollup log names (about a minute when folds keep up).',
                type: 'gauge' as const,
                values: [
                  {
                    value: backlog.oldestBucket
                      ? Math.max(0, (deps.clock.now().getTime() - backlog.oldestBucket.getTime()) / 1000)
                      : 0,
                  },
                ],
              },
            ]
          : []),
        {
          name: 'stockstreamer_process_resident_bytes',
          help: 'Resident memory of this API process.',
          type: 'gauge',
          values: [{ value: process.memoryUsage().rss }],
        },
      ];
    },
    queues: Object.values(queues),
    webRoot: WEB_ROOT,
    // Logos the workers downloaded, stored inline; served from this origin at /logos/{TICKER}.
    logoImage: (ticker) => deps.watchlist.logoImage(ticker),
  });

  const server: Server = createServer(requestListener);
  server.listen(config.server.port, config.server.host);
  // GraphQL over WebSocket (graphql-ws) shares /graphql; the upgrade never reaches Koa.
  const upgrades = createUpgradeHandler({
    path: '/graphql',
    handler: webSockets,
    security: config.security,
    adminAuth,
    limits: clientLimits,
    logger: deps.logger,
  });
  server.on('upgrade', upgrades.onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return {
    url: `http://${host}:${port}`,
    adminMode: adminAuth.mode,
    close: async () => {
      // No new connections; the open subscription streams are told to end, so each client gets its
      // `complete` event and a finished response instead of a reset. Connections that are idle (or become
      // so) close at once; whatever is still open after the grace is cut.
      // WebSockets get `complete` for each subscription and a 1001 close; the server's close waits for
      // them, so any still open at the end of the grace are terminated by closeAll itself.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      upgrades.stopAccepting();
      pubSub.close();
      await settlesWithin(subscriptions.closeAll(HTTP_GRACE_MS), 500);
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      if (!(await settlesWithin(closed, HTTP_GRACE_MS))) server.closeAllConnections();
      clearInterval(sweep);
      await closed;
      await settlesWithin(closeQueues(queues), 1000);
    },
  };
}

/** Tells the history cache about every stored tick this process hears of, until the pub/sub closes. */
async function forgetStoredTicks(source: AsyncIterable<unknown>, cache: HistoryCache, logger: Logger) {
  try {
    for await (const payload of source) cache.forget(parseTicks(payload));
  } catch (error) {
    logger.error({ err: error }, 'the history cache lost its tick feed: cached columns may lag stored ticks');
    cache.clear();
  }
}
