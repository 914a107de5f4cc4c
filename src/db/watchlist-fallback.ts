import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from './errors.ts';
import type { WatchlistRepository } from './watchlist-repository.ts';

/** The Redis key that keeps the last watchlist a price job read, per deployment and provider. */
export function lastKnownTickersKey(prefix: string, provider: string): string {
  return `${prefix}:watchlist:fetchable:${provider}`;
}

/**
 * The watchlist lives in Postgres, but a price job must still take its observation while Postgres is away:
 * what it fetches is kept in the job and lands when the database is back (jobs/price-processor.ts). So
 * every successful `fetchableTickers` answer is copied to Redis, and while the database is unreachable the
 * job asks for that last known list instead of failing before it has fetched anything.
 *
 * Only unavailability falls back; any other database error is the caller's. The copy is written without
 * waiting, so a Redis outage never slows a job down.
 */
export function withLastKnownTickers(
  watchlist: WatchlistRepository,
  options: { redis: Redis; prefix: string; logger: Logger },
): WatchlistRepository {
  const { redis, prefix, logger } = options;
  return {
    ...watchlist,
    async fetchableTickers(provider) {
      const key = lastKnownTickersKey(prefix, provider);
      try {
        const tickers = await watchlist.fetchableTickers(provider);
        redis.set(key, JSON.stringify(tickers)).catch((error: unknown) => {
          logger.debug({ err: error }, 'could not keep the last known watchlist in Redis');
        });
        return tickers;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        const kept = await redis.get(key);
        const tickers: unknown = kept ? JSON.parse(kept) : undefined;
        if (!Array.isArray(tickers) || !tickers.every((t) => typeof t === 'string')) throw error;
        logger.warn(
          { err: error, tickers: tickers.length },
          'database unreachable: fetching prices for the last known watchlist',
        );
        return tickers;
      }
    },
  };
}
