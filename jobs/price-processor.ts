import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { TickRepository } from '../src/db/tick-repository.ts';
import type { WatchlistRepository } from '../src/db/watchlist-repository.ts';
import type { Tick } from '../src/domain/tick.ts';
import type { MarketDataProvider } from '../src/providers/provider.ts';
import type { TickPublisher } from '../src/tick-channel.ts';

/** What a price job carries once it has fetched: the observation itself, so a retry writes the same one. */
export interface PriceJobData {
  quotes?: { ticker: string; price: number; time: string }[];
}

export interface PriceJobResult {
  fetched: number;
  stored: number;
  failed: { symbol: string; error: string }[];
}

export interface PriceProcessorDeps {
  provider: MarketDataProvider;
  watchlist: WatchlistRepository;
  ticks: TickRepository;
  publishTicks: TickPublisher;
  logger: Logger;
  providerTimeoutMs: number;
}

/**
 * Fetch once, write at least once. The quotes are saved into the job before anything is written, so a run
 * that dies after fetching is retried with the same quotes (not a fresh fetch), and the idempotent insert
 * makes a second write of them a no-op. Only rows that were new are published, after the insert commits.
 */
export function createPriceProcessor(deps: PriceProcessorDeps) {
  return async (job: Job<PriceJobData>): Promise<PriceJobResult> => {
    let quotes = job.data.quotes;
    let failed: PriceJobResult['failed'] = [];
    if (!quotes) {
      const symbols = await deps.watchlist.enabledTickers();
      const result = await deps.provider.getQuotes(symbols, {
        signal: AbortSignal.timeout(deps.providerTimeoutMs),
      });
      quotes = result.ok.map((q) => ({ ticker: q.symbol, price: q.price, time: q.time.toISOString() }));
      failed = result.failed.map((f) => ({ symbol: f.symbol, error: f.error.message }));
      for (const f of result.failed)
        deps.logger.warn({ symbol: f.symbol, err: f.error }, 'price fetch failed');
      await job.updateData({ ...job.data, quotes });
    }
    const ticks: Tick[] = quotes.map((q) => ({ ticker: q.ticker, price: q.price, time: new Date(q.time) }));
    const stored = await deps.ticks.insertTicks(ticks);
    await deps.publishTicks(stored);
    return { fetched: ticks.length, stored: stored.length, failed };
  };
}
