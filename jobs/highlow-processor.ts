import type { FiftyTwoWeekRange } from '../src/domain/market-records.ts';
import { createRefreshProcessor, type RefreshProcessorDeps } from './refresh-processor.ts';

const FIFTY_TWO_WEEKS_MS = 364 * 86_400_000;

/**
 * The `highlow` job: each ticker's 52-week high and low, upserted. Where the provider has no figures for a
 * ticker (a fund, a new listing; Polygon derives them from daily bars itself), the range comes from the
 * prices this app has stored over the last 52 weeks, which is as good as the history it has.
 */
export function createHighLowProcessor(deps: RefreshProcessorDeps) {
  return createRefreshProcessor<FiftyTwoWeekRange>(deps, {
    what: '52-week range',
    missing: (watchlist) => watchlist.missingRanges(),
    fetch: (provider, symbols, options) => provider.getFiftyTwoWeekRanges(symbols, options),
    save: (watchlist, ranges) => watchlist.saveRanges(ranges),
    fallback: (fallbackDeps, symbols) =>
      fallbackDeps.watchlist.rangesFromHistory(
        symbols,
        new Date(fallbackDeps.clock.now().getTime() - FIFTY_TWO_WEEKS_MS),
      ),
    symbolOf: (range) => range.symbol,
    provesKnown: true,
  });
}
