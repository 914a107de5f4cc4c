import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { queueHistoryPlan } from '../jobs/history-processor.ts';
import { trackInFlight } from '../jobs/in-flight.ts';
import {
  ALERT_QUEUE,
  closeQueues,
  createAlertQueue,
  createDeliveryQueue,
  createQueues,
  DELIVERY_QUEUE,
} from '../jobs/queues.ts';
import { keepSchedulers } from '../jobs/scheduler-keeper.ts';
import { queueMissingRefresh, type RunningWorkers, startWorkers } from '../jobs/workers.ts';
import type { Config } from './config.ts';
import { runMigrations } from './db/migrate.ts';
import { startRollupFolding } from './db/rollup-folder.ts';
import { outcomeWithin } from './deadline.ts';
import { createDeps, type Deps, type DepsOverrides } from './deps.ts';
import type { AdminMode } from './domain/admin.ts';
import { holdNamespace } from './namespace-claim.ts';
import { packageRoot } from './package-root.ts';
import { warnIfRedisMayEvict } from './redis/eviction-policy.ts';
import { startMetricsServer } from './server/metrics-server.ts';
import {
  type SupervisedWorker,
  startWorkerProcess,
  type WorkerCommand,
  type WorkerMetrics,
} from './worker-process.ts';

/** Which parts run in this process: the API, the workers, or both (the newcomer's default). */
export type Role = 'start' | 'api' | 'worker';

export const WEB_ROOT = path.join(packageRoot(import.meta.url), 'dist/web');

export interface Running {
  deps: Deps;
  /** Base URL of the HTTP server, for the api and start roles. */
  url: string | undefined;
  /** Who may use admin (Bull Board, /metrics, watchlist edits), for the api and start roles. */
  adminMode: AdminMode | undefined;
  /** The loopback /metrics of METRICS_PORT, when set. */
  metricsUrl: string | undefined;
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
    // Before any queue, scheduler or subscription touches the prefix: another database's process stops here.
    const claim = await holdNamespace({
      redis: deps.redis,
      db: deps.database.db,
      prefix: config.queuePrefix,
      databaseUrl: deps.databaseUrl,
      logger: deps.logger,
    });
    stops.push(claim.stop);
    await deps.watchlist.seed(config.symbols);
    const folding = startRollupFolding(deps.ticks, deps.logger);
    stops.push(folding.stop);

    let workers: RunningWorkers | undefined;
    let workerPid: Running['workerPid'];
    let workerChild: SupervisedWorker | undefined;
    const runsWorkers = role === 'worker' || role === 'start';
    // Started alongside the API: the child's start-up (a second runtime, its own clients) overlaps ours.
    const child =
      runsWorkers && role === 'start' && workerProcess
        ? startWorkerProcess({
            command: workerProcess,
            databaseUrl: deps.databaseUrl,
            redisUrl: deps.redisTarget.kind === 'url' ? deps.redisTarget.url : undefined,
            logger: deps.logger,
          }).then((supervised) => {
            stops.push(supervised.stop);
            workerPid = supervised.pid;
            workerChild = supervised;
          })
        : undefined;
    if (runsWorkers && !child) {
      workers = await startWorkers(deps);
      stops.push(superviseWorkers(deps, workers));
    }

    // With the workers in a child process, their series (jobs, pipeline latency, upstream requests) are in
    // its registry: every scrape of this process asks the child for them and adds them to its own.
    const metrics = child
      ? withChildMetrics(deps.metrics.registry, () => workerChild?.metrics() ?? Promise.resolve([]))
      : deps.metrics.registry;

    let url: string | undefined;
    let adminMode: AdminMode | undefined;
    try {
      if (role === 'start' || role === 'api') {
        const server = await startApi(deps, metrics);
        stops.push(server.close);
        url = server.url;
        adminMode = server.adminMode;
      }
    } finally {
      // Awaited even when the API failed, so that a child being started is stopped with the rest.
      await child?.catch(() => {});
    }
    await child;

    let metricsUrl: string | undefined;
    if (config.metrics.port !== undefined) {
      const metricsServer = await startMetricsServer(metrics, config.metrics.port);
      stops.push(metricsServer.close);
      metricsUrl = metricsServer.url;
    }

    let closing: Promise<void> | undefined;
    return {
      deps,
      url,
      adminMode,
      metricsUrl,
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
  const { logger } = deps;
  const keeper = keepSchedulers({
    queues: workers.queues,
    schedule: workers.schedule,
    redis: deps.redis,
    logger,
    // Often enough to heal within a few intervals, rarely enough to cost nothing (three small reads).
    everyMs: Math.min(10_000, Math.max(1000, workers.schedule.priceIntervalMs)),
  });
  const inFlight = trackInFlight([...Object.values(workers.workers), ...workers.alertWorkers]);
  quietQueueErrors(
    { ...workers.queues, [ALERT_QUEUE]: workers.alertQueue, [DELIVERY_QUEUE]: workers.deliveryQueue },
    logger,
  );
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
function quietQueueErrors(queues: Readonly<Record<string, Queue>>, logger: Deps['logger']): void {
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

/** A registry's metrics with a child process's added: counters and histograms summed, as prom-client's
 * cluster aggregation does for the processes of one service. */
function withChildMetrics(registry: Registry, child: () => Promise<WorkerMetrics>): MetricsSource {
  return {
    contentType: registry.contentType,
    metrics: async () => {
      const [own, theirs] = await Promise.all([registry.getMetricsAsJSON(), child()]);
      return AggregatorRegistry.aggregate([own, theirs]).metrics();
    },
  };
}

type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>;

async function startApi(
  deps: Deps,
  metrics: MetricsSource,
): Promise<{ url: string; adminMode: AdminMode; close(): Promise<void> }> {
  const { config } = deps;
  // Loaded here, not at the top: a worker never needs the HTTP side, and skipping Yoga, Koa and Bull Board
  // takes seconds off every worker (re)start, which is how long its share of slots waits after a crash.
  const { buildApi } = await import('./server/api.ts');
  const connection = deps.createRedis('bull-board');
  const pipeline = createQueues(connection, config.queuePrefix);
  const queues = {
    ...pipeline,
    [ALERT_QUEUE]: createAlertQueue(connection, config.queuePrefix),
    [DELIVERY_QUEUE]: createDeliveryQueue(connection, config.queuePrefix, config.webhooks),
  };
  quietQueueErrors(queues, deps.logger);
  const api = buildApi(deps, {
    queues,
    onWatchlistChanged: async (added) => {
      await queueMissingRefresh(deps, pipeline);
      if (added && config.history.backfillDays > 0)
        await queueHistoryPlan(pipeline.history, { tickers: [added] });
    },
    webRoot: WEB_ROOT,
    metrics,
  });

  const server: Server = createServer(api.handler);
  server.listen(config.server.port, config.server.host);
  // GraphQL over WebSocket (graphql-ws) shares /graphql; the upgrade never reaches Koa.
  server.on('upgrade', api.onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return {
    url: `http://${host}:${port}`,
    adminMode: api.adminMode,
    close: async () => {
      // No new connections; the open subscription streams are told to end, so each client gets its
      // `complete` event and a finished response instead of a reset. Connections that are idle (or become
      // so) close at once; whatever is still open after the grace is cut.
      // WebSockets get `complete` for each subscription and a 1001 close; the server's close waits for
      // them, so any still open at the end of the grace are terminated by closeAll itself.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close(HTTP_GRACE_MS);
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      if (!(await settlesWithin(closed, HTTP_GRACE_MS))) server.closeAllConnections();
      clearInterval(sweep);
      await closed;
      await settlesWithin(closeQueues(queues), 1000);
    },
  };
}
