import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createTickPubSub } from '../../graphql/pubsub.ts';
import { createSubscriptionCohorts } from '../../graphql/subscription-cohorts.ts';
import { createStockSchema, createYogaServer } from '../../graphql/yoga.ts';
import { alertsChannel } from '../alert-channel.ts';
import { type CandleWindow, readCandles } from '../db/candles.ts';
import { readCloses } from '../db/close-prices.ts';
import { createHistoryCache, type HistoryCache } from '../db/history-cache.ts';
import { streamPriceExport } from '../db/price-export.ts';
import { outcomeWithin } from '../deadline.ts';
import type { Deps } from '../deps.ts';
import type { AdminMode } from '../domain/admin.ts';
import { assessFreshness, staleAfterMs } from '../domain/freshness.ts';
import { parseTicks, serializeTicks, type Tick } from '../domain/tick.ts';
import { registerFreshnessMetrics } from '../freshness-metrics.ts';
import { createHistoryProgress } from '../history-progress.ts';
import { createProviderStatusReader } from '../providers/provider-status.ts';
import { historyFilledChannel, ticksChannel } from '../tick-channel.ts';
import { bindsToLoopback, createAdmission } from './admission.ts';
import { registerApiMetrics } from './api-metrics.ts';
import { buildApp } from './app.ts';
import { createClientLimits } from './client-limits.ts';
import { createFirstFrame } from './first-frame.ts';
import { MAX_GRAPHQL_BODY_BYTES } from './graphql-http.ts';
import { createGraphqlWsServer } from './graphql-ws-server.ts';
import { createHealthCheck } from './health.ts';
import { registerProviderMetrics } from './provider-metrics.ts';
import { setSecurityHeaders } from './security.ts';
import { answerRefusal, withSseSubscriptions } from './sse-requests.ts';
import { createSseSubscriptions } from './sse-subscriptions.ts';
import { createUpgradeHandler } from './websocket-upgrade.ts';

/** What the API needs from the jobs side, which src/server/ does not import (src/start.ts hands it over). */
export interface ApiParts {
  /** The BullMQ queues, by name: shown in Bull Board, counted in /metrics. */
  queues: Readonly<Record<string, Queue>>;
  /** Asks the workers to fetch what a newly watched ticker lacks (logo, 52-week range, its history). */
  onWatchlistChanged(added?: string): Promise<void>;
  /** The built chart page (dist/web). */
  webRoot: string;
  /**
   * What /metrics serves, when more than this process's registry: under `start`, the worker process's
   * series too (src/start.ts). Default: `deps.metrics.registry`.
   */
  metrics?: Pick<Registry, 'metrics' | 'contentType'>;
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
  if (config.security.allowedHosts.length === 0 && !bindsToLoopback(config.server.host)) {
    logger.warn(
      { host: config.server.host },
      'ALLOWED_HOSTS is empty: only requests to localhost, 127.0.0.1 and [::1] are answered',
    );
  }

  const ticksSubscriber = deps.createRedis('ticks-subscriber');
  const pubSub = createTickPubSub({
    publishClient: deps.redis,
    subscribeClient: ticksSubscriber,
    // Redis gone, or the process stopping under a stream's last UNSUBSCRIBE: reconnection resubscribes.
    onCommandError: (error) => logger.debug({ err: error }, 'tick pub/sub command failed'),
  });
  const ticksTopic = ticksChannel(config.queuePrefix);
  const history = createHistoryCache(deps.ticks, { now: () => deps.clock.now().getTime() });
  const heard = { latest: undefined as Date | undefined };
  void forgetStoredTicks(pubSub.subscribe(ticksTopic), history, heard, logger);
  // Backfilled history (older ticks) tells the cache what to forget; it is not the live feed.
  void forgetStoredTicks(
    pubSub.subscribe(historyFilledChannel(config.queuePrefix)),
    history,
    { latest: undefined },
    logger,
  );
  // Ticks published while the subscription was down were never heard: cached history may lack them, and
  // open streams would miss them. Once it is back, what was stored after the last tick heard is read from
  // PostgreSQL and handed to this process's streams (a tick also heard live then arrives twice: delivery is
  // at least once, as for a retried job).
  let subscribedBefore = false;
  ticksSubscriber.on('ready', () => {
    history.clear();
    const since = heard.latest;
    if (!subscribedBefore || since === undefined) {
      subscribedBefore = true;
      return;
    }
    void replayMissedTicks({ ticks: deps.ticks, since, logger }).then((batch) => {
      if (batch.length > 0) pubSub.replay(ticksTopic, JSON.parse(serializeTicks(batch)));
    });
  });

  // One executable schema for Yoga (queries, mutations, GraphiQL, every error answer over HTTP), SSE
  // subscriptions and graphql-ws; subscriptions on both transports share one set of cohorts, so an SSE
  // viewer and a WebSocket viewer of the same operation share one execution and serialisation per event.
  const providerStatus = createProviderStatusReader(
    deps.redis,
    config.queuePrefix,
    deps.provider.name,
    config.provider.streamUrl !== undefined,
  );
  // Prices are expected at the cadence the provider's plan allows (the workers record it), not at
  // PRICE_INTERVAL_MS alone: on a free tier that stretches it, prices on plan are not stale.
  const plannedIntervalMs = async () =>
    (await providerStatus().catch(() => undefined))?.priceEveryMs ?? config.schedule.priceIntervalMs;
  const resolverDeps = {
    watchlist: deps.watchlist,
    priceHistory: async (...args: Parameters<HistoryCache['history']>) => {
      const stopTimer = deps.metrics.historyReadSeconds.startTimer();
      try {
        return await history.history(...args);
      } finally {
        stopTimer();
      }
    },
    pubSub,
    ticksTopic,
    now: () => deps.clock.now(),
    adminMode: admission.mode,
    onWatchlistChanged: parts.onWatchlistChanged,
    readFreshness: () => deps.freshness.read(),
    providerName: deps.provider.name,
    priceIntervalMs: plannedIntervalMs,
    providerStatus,
    alerts: deps.alerts,
    alertsTopic: alertsChannel(config.queuePrefix),
    historyProgress: createHistoryProgress(deps.redis, config.queuePrefix).read,
    followsCalendar: config.market.followsCalendar,
    priceBars: (ticker: string, from: Date, to: Date) => deps.history.bars(ticker, from, to),
    barHistory: deps.barHistory.reduced,
    candles: (window: CandleWindow, intervalS: number) => readCandles(deps.database.pool, window, intervalS),
    tradesAroundTheClock: deps.provider.name === 'simulated' && !config.market.followsCalendar,
    closes: (tickers: readonly string[], at: Date) => readCloses(deps.database, tickers, at),
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
  const staleAfter = async () => staleAfterMs(await plannedIntervalMs());
  const health = createHealthCheck({
    pool: deps.database.pool,
    redis: healthRedis,
    prices: async () => {
      const [records, after] = await Promise.all([deps.freshness.read(), staleAfter()]);
      return assessFreshness(records.deployment, deps.clock.now().getTime(), after);
    },
  });
  registerProviderMetrics(deps.metrics.registry, providerStatus);
  registerApiMetrics(deps.metrics.registry, {
    health,
    subscriptions: cohorts.stats,
    webSockets: () => webSockets.stats().sockets,
    jobCounts: () =>
      Promise.all(
        Object.entries(parts.queues).map(
          async ([name, queue]) => [name, await queue.getJobCounts()] as const,
        ),
      ),
    rollupBacklog: () => deps.ticks.rollupBacklog(),
    rawPartitions: () => deps.partitions.stats(),
    now: () => deps.clock.now().getTime(),
  });
  registerFreshnessMetrics(deps.metrics.registry, {
    snapshot: () => deps.freshness.read(),
    watched: () => deps.watchlist.enabledTickers(),
    now: () => deps.clock.now().getTime(),
    staleAfterMs: staleAfter,
  });

  // The page's first queries, read here for the frame drawn into its HTML (first-frame.ts).
  const firstFrame = createFirstFrame({
    async read(from, to, width) {
      const watchlist = await deps.watchlist.list();
      const tickers = watchlist.filter((stock) => stock.enabled).map((stock) => stock.ticker);
      const [series, bars] = await Promise.all([
        resolverDeps.priceHistory(tickers, from, to, width),
        deps.barHistory.reduced(tickers, from, to, width),
      ]);
      return { watchlist, series, bars };
    },
    now: () => deps.clock.now().getTime(),
    logger,
  });
  const koa = buildApp({
    logger,
    graphql: yoga,
    admission,
    security: config.security,
    health,
    metrics: parts.metrics ?? deps.metrics.registry,
    queues: Object.values(parts.queues),
    webRoot: parts.webRoot,
    // Logos the workers downloaded, stored inline; served from this origin at /logos/{TICKER}.
    logoImage: (ticker) => deps.watchlist.logoImage(ticker),
    exportPrices: (request) => streamPriceExport(deps.database.pool, request),
    firstFrame,
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
      void firstFrame.close();
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
/** How many stored ticks one replay after a lost subscription hands on at most (minutes of 1,000 tickers). */
const REPLAY_LIMIT = 50_000;

async function replayMissedTicks(options: {
  ticks: Deps['ticks'];
  since: Date;
  logger: Logger;
}): Promise<Tick[]> {
  try {
    const batch = await options.ticks.ticksAfter(options.since, REPLAY_LIMIT);
    options.logger.info(
      { since: options.since.toISOString(), ticks: batch.length },
      'tick subscription back: replayed the ticks stored meanwhile to open streams',
    );
    return batch;
  } catch (error) {
    options.logger.warn(
      { err: error },
      'tick subscription back, but the ticks stored meanwhile could not be read',
    );
    return [];
  }
}

async function forgetStoredTicks(
  source: AsyncIterable<unknown>,
  cache: HistoryCache,
  heard: { latest: Date | undefined },
  logger: Logger,
) {
  try {
    for await (const payload of source) {
      const ticks = parseTicks(payload);
      cache.forget(ticks);
      for (const tick of ticks) if (!heard.latest || tick.time > heard.latest) heard.latest = tick.time;
    }
  } catch (error) {
    logger.error({ err: error }, 'the history cache lost its tick feed: cached columns may lag stored ticks');
    cache.clear();
  }
}
