import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { createDatabase, type DatabaseHandle, redactUrl } from './db/client.ts';
import { startEmbeddedPostgres } from './db/embedded.ts';
import { createTickRepository, type TickRepository } from './db/tick-repository.ts';
import { createWatchlistRepository, type WatchlistRepository } from './db/watchlist-repository.ts';
import { createLogger } from './logger.ts';
import { createProvider } from './providers/create-provider.ts';
import type { MarketDataProvider } from './providers/provider.ts';
import { resolveRedis } from './redis/local-redis.ts';
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
  redisUrl: string;
  redisOrigin: 'configured' | 'local' | 'private';
  /** For commands and publishing. BullMQ requires `maxRetriesPerRequest: null` on its connections. */
  redis: Redis;
  /** Creates another connection to the same Redis (subscribers and blocking workers need their own). */
  createRedis(purpose: string, options?: RedisOptions): Redis;
  provider: MarketDataProvider;
  ticks: TickRepository;
  watchlist: WatchlistRepository;
  publishTicks: TickPublisher;
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

    const resolvedRedis = await resolveRedis({ url: config.redis.url, dataDir: config.dataDir, logger });
    cleanups.push(resolvedRedis.stop);

    const clients: Redis[] = [];
    const createRedis = (purpose: string, options: RedisOptions = {}) => {
      const client = new Redis(resolvedRedis.url, {
        maxRetriesPerRequest: null,
        connectionName: `stockstreamer:${purpose}`,
        ...options,
      });
      // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
      client.on('error', (error) => logger.debug({ err: error, purpose }, 'redis connection error'));
      clients.push(client);
      return client;
    };
    cleanups.push(async () => {
      await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    });
    const redis = createRedis('commands');

    const database = createDatabase(databaseUrl, logger);
    cleanups.push(database.close);

    let closing: Promise<void> | undefined;
    return {
      config,
      logger,
      clock,
      database,
      databaseUrl,
      databaseOrigin,
      redisUrl: resolvedRedis.url,
      redisOrigin: resolvedRedis.origin,
      redis,
      createRedis,
      provider: overrides.provider ?? createProvider(config.provider, clock),
      ticks: createTickRepository(database.db),
      watchlist: createWatchlistRepository(database.db),
      publishTicks: createTickPublisher(redis, config.queuePrefix),
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

/** One line per backing service for the start banner, without passwords. */
export function describeBackends(deps: Deps): string[] {
  return [
    `database  ${redactUrl(deps.databaseUrl)} (${deps.databaseOrigin === 'embedded' ? `embedded, data in ${deps.config.dataDir}/postgres` : 'DATABASE_URL'})`,
    `redis     ${redactUrl(deps.redisUrl)} (${{ configured: 'REDIS_URL', local: 'local default', private: `private redis-server, data in ${deps.config.dataDir}/redis` }[deps.redisOrigin]})`,
    `provider  ${deps.provider.name}`,
  ];
}
