import type { BatchResult, FetchOptions, MarketDataProvider } from './provider.ts';

export type ProviderCapability = 'quotes' | 'profiles' | 'ranges';

/**
 * Wraps a provider so that every failure it reports is counted, by capability and by kind (see
 * `upstreamErrorKind` in src/metrics.ts): the failed symbols of a batch one each, a call that throws as a
 * whole once. Counted here rather than in the HTTP client because most faults are found in a 200 answer
 * (an in-body rate limit, a wrong shape, an unknown symbol) by the provider's own parsing. Answers pass
 * through unchanged.
 */
export function countFailures(
  provider: MarketDataProvider,
  count: (capability: ProviderCapability, error: unknown) => void,
): MarketDataProvider {
  const counted =
    <T>(
      capability: ProviderCapability,
      call: (s: readonly string[], o?: FetchOptions) => Promise<BatchResult<T>>,
    ) =>
    async (symbols: readonly string[], options?: FetchOptions): Promise<BatchResult<T>> => {
      let result: BatchResult<T>;
      try {
        result = await call(symbols, options);
      } catch (error) {
        count(capability, error);
        throw error;
      }
      for (const failure of result.failed) count(capability, failure.error);
      return result;
    };
  return {
    name: provider.name,
    priceBatching: provider.priceBatching,
    getQuotes: counted('quotes', (s, o) => provider.getQuotes(s, o)),
    getProfiles: counted('profiles', (s, o) => provider.getProfiles(s, o)),
    getFiftyTwoWeekRanges: counted('ranges', (s, o) => provider.getFiftyTwoWeekRanges(s, o)),
    ...(provider.getHistory ? { getHistory: provider.getHistory.bind(provider) } : {}),
    ...(provider.historyKind ? { historyKind: provider.historyKind } : {}),
    ...(provider.historyUnavailable ? { historyUnavailable: provider.historyUnavailable } : {}),
  };
}
