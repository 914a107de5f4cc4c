import type { Clock } from '../clock.ts';
import { type Config, LIVE_PROVIDERS } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import { createAlphaVantageProvider } from './alphavantage.ts';
import { createFinnhubProvider } from './finnhub.ts';
import type { Sleep } from './http.ts';
import type { LiveProviderOptions } from './live-provider-options.ts';
import type { ProviderLogger } from './logo-image.ts';
import { createPolygonProvider } from './polygon.ts';
import type { MarketDataProvider } from './provider.ts';
import { createSimulatedProvider } from './simulated.ts';
import type { TradeStore } from './trade-stream.ts';
import { createTwelveDataProvider } from './twelvedata.ts';
import { createYahooProvider } from './yahoo.ts';

/** Picks the provider named by `PROVIDER`, one file each. Keys and base URLs were checked by loadConfig. */
export function createProvider(
  config: Config['provider'],
  clock: Clock,
  logger?: ProviderLogger,
  metrics?: Pick<Metrics, 'upstreamRequestSeconds'>,
  /** For tests on virtual time (sleep) and Finnhub's trade stream (trades). */
  extras: { sleep?: Sleep; trades?: TradeStore } = {},
): MarketDataProvider {
  if (config.name === 'simulated') return createSimulatedProvider({ seed: config.seed, clock });
  const options: LiveProviderOptions = {
    apiKey: config.apiKey,
    baseUrl: config.baseUrl!,
    baseUrlVariable: LIVE_PROVIDERS[config.name].baseUrlVariable,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    clock,
    logger,
    ...(extras.sleep ? { sleep: extras.sleep } : {}),
    ...(extras.trades ? { trades: extras.trades } : {}),
    onRequest: (endpoint, seconds) =>
      metrics?.upstreamRequestSeconds.observe({ provider: config.name, endpoint }, seconds),
  };
  switch (config.name) {
    case 'finnhub':
      return createFinnhubProvider(options);
    case 'twelvedata':
      return createTwelveDataProvider(options);
    case 'alphavantage':
      return createAlphaVantageProvider(options);
    case 'yahoo':
      return createYahooProvider(options);
    case 'polygon':
      return createPolygonProvider(options);
  }
}
