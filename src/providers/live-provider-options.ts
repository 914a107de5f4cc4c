import type { Clock } from '../clock.ts';
import { createProviderHttp, type ProviderHttp, type ProviderHttpOptions } from './http.ts';
import type { ProviderLogger } from './logo-image.ts';

/** What every live provider file is built from; `createProvider` fills it in from the config. */
export interface LiveProviderOptions {
  /** Undefined only for providers that need none (Yahoo). */
  apiKey: string | undefined;
  baseUrl: string;
  /** Bounds each upstream request. */
  timeoutMs: number;
  /** Requests in flight at once where a provider has no batch endpoint. */
  concurrency: number;
  /** The request budget's size, when there is one: no single batch may weigh more than the whole budget. */
  budgetMax?: number;
  clock: Clock;
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
    timeoutMs: options.timeoutMs,
    ...auth,
    secrets: options.apiKey ? [options.apiKey] : [],
    fetch: options.fetch,
    onRequest: options.onRequest,
  });
}
