import type { FiftyTwoWeekRange } from '../src/providers/provider.ts';
import { createRefreshProcessor, type RefreshProcessorDeps } from './refresh-processor.ts';

/** The `highlow` job: each ticker's 52-week high and low, upserted. */
export function createHighLowProcessor(deps: RefreshProcessorDeps) {
  return createRefreshProcessor<FiftyTwoWeekRange>(deps, {
    what: '52-week range',
    missing: (watchlist) => watchlist.missingRanges(),
    fetch: (provider, symbols, options) => provider.getFiftyTwoWeekRanges(symbols, options),
    save: (watchlist, ranges) => watchlist.saveRanges(ranges),
  });
}
