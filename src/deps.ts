import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { type AlertPublisher, createAlertPublisher } from './alert-channel.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { type AlertRepository, createAlertRepository } from './db/alert-repository.ts';
import { type BarHistory, createBarHistory } from './db/bar-history.ts';
import { createDatabase, type DatabaseHandle, redactUrl } from './db/client.ts';
import { startEmbeddedPostgres } from './db/embedded.ts';
import { createHistoryStore, type HistoryStore } from './db/history-store.ts';
import { createTickPartitions, type TickPartitions } from './db/tick-partitions.ts';
import { createTickRepository, type TickRepository } from './db/tick-repository.ts';
import { withLastKnownTickers } from './db/watchlist-fallback.ts';
import { createWatchlistRepository, type WatchlistRepository } from './db/watchlist-repository.ts';
import { outcomeWithin } from './deadline.ts';
import { createFreshnessStore, type FreshnessStore } from './freshness-store.ts';
import { createLogger } from './logger.ts';
import { createMetrics, type Metrics, upstreamErrorKind } from './metrics.ts';
import { countFailures } from './providers/counted-provider.ts';
import { createProvider } from './providers/create-provider.ts';
import type { MarketDataProvider } from './providers/provider.ts';
import { createTradeStore } from './providers/trade-stream.ts';
import {
  createRedisClient,
  describeRedisTarget,
  type RedisTarget,
  resolveRedisTarget,
} from './redis/redis-target.ts';
import { createTickPublisher, type TickPublisher } from './tick-channel.ts';

/**
 * Everything a role needs, built in one place. Nothing below this file creates a pool, a client or a
 * provider of its own, so a test swaps any of them by building Deps differently.
 */
export interface Deps {
  config: Config;
  logger: Logger;
  clock: Clock;
  database: DatabaseHandle;
  /** Where Postgres and Redis actually are, after the embedded/local defaults were resolved. */
  databaseUrl: string;
  databaseOrigin: 'configured' | 'embedded';
  /** One address, or the sentinels that know the primary (REDIS_SENTINELS). */
  redisTarget: RedisTarget;
  redisOrigin: 'configured' | 'local' | 'private' | 'sentinel';
  /** For commands and publishing. BullMQ requires `maxRetriesPerRequest: null` on its connections. */
  redis: Redis;
  /** Creates another connection to the same Redis (subscribers and blocking workers need their own). */
  createRedis(purpose: string, options?: RedisOptions): Redis;
  provider: MarketDataProvider;
  /** This process's Prometheus registry and the instruments the roles record into. */
  metrics: Metrics;
  ticks: TickRepository;
  /** stock_prices' day partitions: made ahead, dropped behind RETAIN_TICKS_DAYS (src/db/tick-partitions.ts). */
  partitions: TickPartitions;
  /** Where backfilled ticks go, and what the gap repair counts (src/db/history-store.ts). */
  history: HistoryStore;
  /** Provider bars reduced for the chart (src/db/bar-history.ts). */
  barHistory: BarHistory;
  watchlist: WatchlistRepository;
  publishTicks: TickPublisher;
  /** Price alert rules, their evaluation and the log of firings. */
  alerts: AlertRepository;
  /** Publishes firings to every API process (the `alerts` subscription). */
  publishAlerts: AlertPublisher;
  /** Per ticker and per deployment: the last good price and the last fetch's outcome (in Redis). */
  freshness: FreshnessStore;
  /** Closes clients, then stops any child servers this process started. Idempotent. */
  close(): Promise<void>;
}

export interface DepsOverrides {
  clock?: Clock;
  logger?: Logger;
  provider?: MarketDataProvider;
}

export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const metrics = createMetrics();
  if (config.provider.budget) {
    metrics.upstreamBudget.set({ provider: config.provider.name }, config.provider.budget.max);
    metrics.upstreamBudgetWindow.set(
      { provider: config.provider.name },
      config.provider.budget.windowMs / 1000,
    );
  }
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) => logger.warn({ err: error }, 'error while shutting down'));
    }
    cleanups.length = 0;
  };

  try {
    let databaseUrl = config.database.url;
    let databaseOrigin: Deps['databaseOrigin'] = 'configured';
    if (databaseUrl === undefined) {
      const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
      cleanups.push(embedded.stop);
      databaseUrl = embedded.url;
      databaseOrigin = 'embedded';
    }

    const resolvedRedis = await resolveRedisTarget(config, logger);
    cleanups.push(resolvedRedis.stop);

    let closing: Promise<void> | undefined;
    const clients: Redis[] = [];
    const retryStrategy = reconnectDelay(config.schedule.priceIntervalMs);
    const createRedis = (purpose: string, options: RedisOptions = {}) => {
      const client = createRedisClient(resolvedRedis.target, {
        maxRetriesPerRequest: null,
        connectionName: `stockstreamer:${purpose}`,
        retryStrategy,
        ...options,
      });
      // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
      client.on('error', (error) => logger.debug({ err: error, purpose }, 'redis connection error'));
      clients.push(client);
      return client;
    };
    cleanups.push(async () => {
      await Promise.all(clients.map((client) => closeRedis(client)));
    });
    const redis = createRedis('commands');
    // Every client reconnects by itself; this one speaks for all of them in the log, once per outage.
    let lostAt: number | undefined;
    redis.on('close', () => {
      if (lostAt !== undefined || closing) return;
      lostAt = Date.now();
      logger.warn(
        { redis: describeRedisTarget(resolvedRedis.target) },
        'redis connection lost; reconnecting',
      );
    });
    redis.on('ready', () => {
      if (lostAt === undefined) return;
      logger.info({ downMs: Date.now() - lostAt }, 'redis connection back');
      lostAt = undefined;
    });

    const database = createDatabase(databaseUrl, logger);
    const ticks = createTickRepository(database.db);
    // A query stuck on a lock (or a server that went away) must not hold a stopping process: the exit
    // closes the sockets anyway, and Postgres rolls back what was not committed.
    cleanups.push(async () => {
      await outcomeWithin(database.close(), CLOSE_STEP_MS);
    });

    return {
      config,
      logger,
      clock,
      database,
      databaseUrl,
      databaseOrigin,
      redisTarget: resolvedRedis.target,
      redisOrigin: resolvedRedis.origin,
      redis,
      createRedis,
      provider: countFailures(
        overrides.provider ??
          createProvider(config.provider, clock, logger, metrics, {
            // Prices from Finnhub's trade stream, kept in Redis by whichever worker holds it (trade-stream.ts).
            ...(config.provider.streamUrl ? { trades: createTradeStore(redis, config.queuePrefix) } : {}),
          }),
        (capability, error) =>
          metrics.upstreamErrors.inc({
            provider: config.provider.name,
            capability,
            kind: upstreamErrorKind(error),
          }),
      ),
      metrics,
      ticks,
      partitions: createTickPartitions(database.db),
      history: createHistoryStore(database, ticks),
      barHistory: createBarHistory(database),
      watchlist: withLastKnownTickers(createWatchlistRepository(database.db), {
        redis,
        prefix: config.queuePrefix,
        logger,
      }),
      publishTicks: createTickPublisher(redis, config.queuePrefix),
      alerts: createAlertRepository(database.db),
      publishAlerts: createAlertPublisher(redis, config.queuePrefix),
      freshness: createFreshnessStore(createRedis('freshness'), config.queuePrefix),
      close: () => {
        closing ??= cleanup();
        return closing;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** How long one step of closing (a client, the pool) may take before shutdown moves on without it. */
const CLOSE_STEP_MS = 1000;

/**
 * ioredis retries forever (good: a worker must outlive a Redis restart) but backs off to 2 s between
 * attempts, so a pipeline on a short interval would miss a slot or two after Redis is back. Attempts are
 * a refused TCP connect while Redis is away, so they stay cheap at a quarter of the price interval (at
 * least 50 ms, at most the 2 s ioredis defaults to).
 */
export function reconnectDelay(priceIntervalMs: number): (attempt: number) => number {
  const cap = Math.min(2000, Math.max(50, Math.floor(priceIntervalMs / 4)));
  return (attempt) => Math.min(attempt * 50, cap);
}

/**
 * QUIT when connected; otherwise (Redis is down, the client is reconnecting) QUIT would wait in the
 * offline queue for a Redis that may never come back, so drop the connection instead.
 */
async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    const quit = client.quit().then(
      () => true,
      () => false,
    );
    if ((await outcomeWithin(quit, CLOSE_STEP_MS)) !== 'timeout') return;
  }
  client.disconnect();
}

/** One line per backing service for the start banner, without passwords. */
export function describeBackends(deps: Deps): string[] {
  return [
    `database  ${redactUrl(deps.databaseUrl)} (${deps.databaseOrigin === 'embedded' ? `embedded, data in ${deps.config.dataDir}/postgres` : 'DATABASE_URL'})`,
    `redis     ${describeRedisTarget(deps.redisTarget)} (${{ configured: 'REDIS_URL', local: 'local default', private: `private redis-server, data in ${deps.config.dataDir}/redis`, sentinel: 'REDIS_SENTINELS' }[deps.redisOrigin]})`,
    `provider  ${deps.provider.name}`,
  ];
}
