import {
  type FetchOptions,
  type MarketDataProvider,
  ProviderAuthError,
  ProviderConfigError,
  ProviderError,
  UnknownSymbolError,
} from './provider.ts';

/** Start-up stops with this: the provider told us the key, plan or base URL is wrong. One line, our words. */
export class ProviderSetupError extends Error {
  override name = 'ProviderSetupError';
}

export type VerifyOutcome =
  | { ok: true; detail: string }
  /** Could not tell (the provider is down, the budget has no room now): start anyway, the jobs retry. */
  | { ok: false; detail: string };

/**
 * One price request before the schedulers start (the "check the provider before it starts"): a
 * refused key, a path that is not there, or every ticker of the request unknown (which is what a wrong
 * base URL looks like when it answers) throws a ProviderSetupError. Anything transient is reported, not
 * thrown. The request goes through the shared budget like any other.
 */
export async function verifyProvider(
  provider: MarketDataProvider,
  tickers: readonly string[],
  options: FetchOptions,
): Promise<VerifyOutcome> {
  if (tickers.length === 0) return { ok: true, detail: 'no tickers to ask for' };
  try {
    const result = await provider.getQuotes(tickers, options);
    if (result.ok.length > 0) {
      return { ok: true, detail: `${result.ok[0]!.symbol} ${result.ok[0]!.price}` };
    }
    const first = result.failed[0]?.error;
    if (first instanceof ProviderConfigError) throw setupError(provider, first);
    if (
      result.failed.length === tickers.length &&
      result.failed.every((f) => f.error instanceof UnknownSymbolError)
    ) {
      throw new ProviderSetupError(
        `${provider.name} knows none of ${tickers.join(', ')}: ${first?.message ?? ''}; is the base URL right, and does the plan cover these tickers?`,
      );
    }
    return { ok: false, detail: first?.message ?? 'nothing came back' };
  } catch (error) {
    if (error instanceof ProviderSetupError) throw error;
    if (error instanceof ProviderAuthError || error instanceof ProviderConfigError) {
      throw setupError(provider, error);
    }
    if (error instanceof ProviderError) return { ok: false, detail: error.message };
    throw error;
  }
}

function setupError(provider: MarketDataProvider, error: ProviderError): ProviderSetupError {
  const what =
    error instanceof ProviderAuthError ? 'refused the key or the plan' : 'is not where the base URL points';
  return new ProviderSetupError(`${provider.name} ${what}, so nothing was started: ${error.message}`);
}
