import type { Clock } from '../clock.ts';
import { createProviderHttp, type ProviderHttp, type ProviderHttpOptions, type Sleep } from './http.ts';
import type { ProviderLogger } from './logo-image.ts';
import type { TradeStore } from './trade-stream.ts';

/** What every live provider file is built from; `createProvider` fills it in from the config. */
export interface LiveProviderOptions {
  /** Undefined only for providers that need none (Yahoo). */
  apiKey: string | undefined;
  baseUrl: string;
  /** The variable that sets it (FINNHUB_BASE_URL …), named when an answer says it is wrong. */
  baseUrlVariable?: string;
  /** Bounds each upstream request. */
  timeoutMs: number;
  /** Requests in flight at once where a provider has no batch endpoint. */
  concurrency: number;
  clock: Clock;
  /** The trade stream's latest trades (Finnhub), when prices come from it (trade-stream.ts). */
  trades?: TradeStore;
  /** How a request waits for its turn in the budget; tests on virtual time pass their own. */
  sleep?: Sleep;
  /** For what a provider decides quietly (a logo URL it would not fetch); silent when absent. */
  logger?: ProviderLogger | undefined;
  /** For tests that need a different transport; the default is Node's fetch. */
  fetch?: typeof fetch;
  /** Told how long each upstream request took (src/metrics.ts records it). */
  onRequest?: ProviderHttpOptions['onRequest'];
}

/**
 * A live provider's HTTP client: its base URL, timeout and transport from the options, the key kept out of
 * every error message, and `auth` saying where the key (or, for Yahoo, a User-Agent) travels.
 */
export function liveHttp(
  provider: string,
  options: LiveProviderOptions,
  auth: Pick<ProviderHttpOptions, 'headers' | 'query'>,
): ProviderHttp {
  return createProviderHttp({
    provider,
    baseUrl: options.baseUrl,
    ...(options.baseUrlVariable ? { baseUrlVariable: options.baseUrlVariable } : {}),
    timeoutMs: options.timeoutMs,
    ...auth,
    secrets: options.apiKey ? [options.apiKey] : [],
    fetch: options.fetch,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    onRequest: options.onRequest,
  });
}
