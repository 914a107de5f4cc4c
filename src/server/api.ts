import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { createTickPubSub } from '../../graphql/pubsub.ts';
import { createSubscriptionCohorts } from '../../graphql/subscription-cohorts.ts';
import { createStockSchema, createYogaServer } from '../../graphql/yoga.ts';
import { createHistoryCache, type HistoryCache } from '../db/history-cache.ts';
import { outcomeWithin } from '../deadline.ts';
import type { Deps } from '../deps.ts';
import type { AdminMode } from '../domain/admin.ts';
import { parseTicks } from '../domain/tick.ts';
import { ticksChannel } from '../tick-channel.ts';
import { createAdmission, isLoopbackAddress } from './admission.ts';
import { buildApp } from './app.ts';
import { createClientLimits } from './client-limits.ts';
import { MAX_GRAPHQL_BODY_BYTES } from './graphql-http.ts';
import { createGraphqlWsServer } from './graphql-ws-server.ts';
import { createHealthCheck } from './health.ts';
import type { Metric } from './metrics.ts';
import { setSecurityHeaders } from './security.ts';
import { answerRefusal, withSseSubscriptions } from './sse-requests.ts';
import { createSseSubscriptions } from './sse-subscriptions.ts';
import { createUpgradeHandler } from './websocket-upgrade.ts';

/** What the API needs from the jobs side, which src/server/ does not import (src/start.ts hands it over). */
export interface ApiParts {
  /** The BullMQ queues, by name: shown in Bull Board, counted in /metrics. */
  queues: Readonly<Record<string, Queue>>;
  /** Asks the workers to fetch what a newly watched ticker lacks (logo, 52-week range). */
  onWatchlistChanged(): Promise<void>;
  /** The built chart page (dist/web). */
  webRoot: string;
}

export interface Api {
  /** The Node request listener for every HTTP request. */
  handler: RequestListener;
  /** The Node server's 'upgrade' listener (GraphQL over WebSocket at /graphql). */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Who may use admin, for the start banner. */
  adminMode: AdminMode;
  /**
   * Refuses new upgrades, completes every subscription on both transports (WebSockets close with 1001,
   * given `graceMs` for their close handshake) and stops the tick feed. The listening server and its
   * connections are the caller's.
   */
  close(graceMs: number): Promise<void>;
}

/**
 * The whole HTTP API, built without listening (as Yoga's and Koa's own examples do), so tests can drive it
 * in-process and src/start.ts only listens. Every transport (Koa's routes, the SSE path ahead of Koa, the
 * WebSocket upgrade) asks one admission (admission.ts) whether a request gets in, and with what rights.
 */
export function buildApi(deps: Deps, parts: ApiParts): Api {
  const { config, logger } = deps;
  const limits = createClientLimits({
    perMinute: config.security.rateLimitPerMinute,
    maxStreams: config.security.maxSubscriptionsPerClient,
  });
  const admission = createAdmission({
    server: config.server,
    security: config.security,
    limits,
    logger,
    redis: deps.redis,
    keyPrefix: config.queuePrefix,
  });
  if (config.security.allowedHosts.length === 0 && !isLoopbackAddress(config.server.host)) {
    logger.warn(
      { host: config.server.host },
      'ALLOWED_HOSTS is empty: only requests to localhost, 127.0.0.1 and [::1] are answered',
    );
  }

  const ticksSubscriber = deps.createRedis('ticks-subscriber');
  const pubSub = createTickPubSub({ publishClient: deps.redis, subscribeClient: ticksSubscriber });
  const ticksTopic = ticksChannel(config.queuePrefix);
  const history = createHistoryCache(deps.ticks, { now: () => deps.clock.now().getTime() });
  void forgetStoredTicks(pubSub.subscribe(ticksTopic), history, logger);
  // Ticks published while the subscription was down were never heard: cached history may lack them.
  ticksSubscriber.on('ready', () => history.clear());

  // One executable schema for Yoga (queries, mutations, GraphiQL, every error answer over HTTP), SSE
  // subscriptions and graphql-ws; subscriptions on both transports share one set of cohorts, so an SSE
  // viewer and a WebSocket viewer of the same operation share one execution and serialisation per event.
  const resolverDeps = {
    watchlist: deps.watchlist,
    priceHistory: history.history,
    pubSub,
    ticksTopic,
    now: () => deps.clock.now(),
    adminMode: admission.mode,
    onWatchlistChanged: parts.onWatchlistChanged,
  };
  const schema = createStockSchema(resolverDeps);
  const yoga = createYogaServer(
    { ...resolverDeps, logger, allowedOrigins: config.security.allowedOrigins },
    schema,
  );
  const cohorts = createSubscriptionCohorts({ schema, logger });
  const sse = createSseSubscriptions({ schema, cohorts, logger });
  const webSockets = createGraphqlWsServer({
    schema,
    cohorts,
    logger,
    maxPayloadBytes: MAX_GRAPHQL_BODY_BYTES,
  });

  // A health probe must answer "down" at once during an outage, not queue the PING until Redis is back.
  const healthRedis = deps.createRedis('health', { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const health = createHealthCheck({ pool: deps.database.pool, redis: healthRedis });
  const metrics = async (): Promise<Metric[]> => {
    const [report, counts, backlog] = await Promise.all([
      health(),
      Promise.all(
        Object.entries(parts.queues).map(
          async ([name, queue]) => [name, await queue.getJobCounts()] as const,
        ),
      ).catch(() => []),
      deps.ticks.rollupBacklog().catch(() => undefined),
    ]);
    const { subscribers, cohorts: operations } = cohorts.stats();
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
        values: [{ value: operations }],
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
  };

  const koa = buildApp({
    logger,
    graphql: yoga,
    admission,
    security: config.security,
    health,
    metrics,
    queues: Object.values(parts.queues),
    webRoot: parts.webRoot,
    // Logos the workers downloaded, stored inline; served from this origin at /logos/{TICKER}.
    logoImage: (ticker) => deps.watchlist.logoImage(ticker),
  }).callback();
  // SSE subscriptions are served ahead of Koa (sse-requests.ts says why), everything else by Koa.
  const served = withSseSubscriptions(koa, {
    subscriptions: sse,
    graphql: yoga,
    admission,
    security: config.security,
    logger,
  });
  const handler: RequestListener = (req, res) => {
    // Before anything else, on every route: a Host this server is not meant for (DNS rebinding).
    const refused = admission.hostRefusal(req);
    if (!refused) return served(req, res);
    setSecurityHeaders((name, value) => res.setHeader(name, value));
    answerRefusal(res, refused);
  };
  const upgrades = createUpgradeHandler({ path: '/graphql', handler: webSockets, admission, limits, logger });

  return {
    handler,
    onUpgrade: upgrades.onUpgrade,
    adminMode: admission.mode,
    async close(graceMs: number) {
      upgrades.stopAccepting();
      pubSub.close();
      const streams = (async () => {
        const sockets = webSockets.closeAll(graceMs);
        await cohorts.closeAll();
        sse.closeAll();
        await sockets;
      })();
      await outcomeWithin(streams, 500);
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
