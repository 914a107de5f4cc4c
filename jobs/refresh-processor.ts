import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { WatchlistRepository } from '../src/db/watchlist-repository.ts';
import type { BatchResult, FetchOptions, MarketDataProvider } from '../src/providers/provider.ts';

/** `onlyMissing` is set on the one-off job queued at start, so a restart does not refetch what is stored. */
export interface RefreshJobData {
  onlyMissing?: boolean;
}

export interface RefreshJobResult {
  requested: number;
  saved: number;
  failed: { symbol: string; error: string }[];
}

export interface RefreshProcessorDeps {
  provider: MarketDataProvider;
  watchlist: WatchlistRepository;
  logger: Logger;
  providerTimeoutMs: number;
}

/** What differs between the slow "refresh what we know about each ticker" jobs (logos, 52-week ranges). */
export interface RefreshKind<T> {
  what: string;
  missing(watchlist: WatchlistRepository): Promise<string[]>;
  fetch(
    provider: MarketDataProvider,
    symbols: readonly string[],
    options: FetchOptions,
  ): Promise<BatchResult<T>>;
  save(watchlist: WatchlistRepository, items: readonly T[]): Promise<void>;
}

/**
 * The shape shared by the slow jobs: fetch a batch, upsert what came back, log (not fail on) per-symbol
 * faults so one bad ticker never costs the others. A fault of the whole call is thrown, and BullMQ retries.
 */
export function createRefreshProcessor<T>(deps: RefreshProcessorDeps, kind: RefreshKind<T>) {
  return async (job: Job<RefreshJobData>): Promise<RefreshJobResult> => {
    const symbols = job.data.onlyMissing
      ? await kind.missing(deps.watchlist)
      : await deps.watchlist.enabledTickers();
    if (symbols.length === 0) return { requested: 0, saved: 0, failed: [] };
    const result = await kind.fetch(deps.provider, symbols, {
      signal: AbortSignal.timeout(deps.providerTimeoutMs),
    });
    await kind.save(deps.watchlist, result.ok);
    for (const f of result.failed)
      deps.logger.warn({ symbol: f.symbol, err: f.error }, `${kind.what} fetch failed`);
    return {
      requested: symbols.length,
      saved: result.ok.length,
      failed: result.failed.map((f) => ({ symbol: f.symbol, error: f.error.message })),
    };
  };
}
