import type { CompanyProfile } from '../src/domain/market-records.ts';
import { createRefreshProcessor, type RefreshProcessorDeps } from './refresh-processor.ts';

/**
 * The `logos` job: company names and logo URLs, upserted (the classic deleted and re-inserted them).
 * Providers without logos answer the app's own monogram (/logos/{TICKER}.svg), so there is always one.
 */
export function createLogoProcessor(deps: RefreshProcessorDeps) {
  return createRefreshProcessor<CompanyProfile>(deps, {
    what: 'logo',
    missing: (watchlist) => watchlist.missingProfiles(),
    fetch: (provider, symbols, options) => provider.getProfiles(symbols, options),
    save: (watchlist, profiles) => watchlist.saveProfiles(profiles),
    symbolOf: (profile) => profile.symbol,
    provesKnown: false,
  });
}
