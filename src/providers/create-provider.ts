import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import { createAlphaVantageProvider } from './alphavantage.ts';
import { createFinnhubProvider } from './finnhub.ts';
import type { LiveProviderOptions } from './live-provider-options.ts';
import type { ProviderLogger } from './logo-image.ts';
import { createPolygonProvider } from './polygon.ts';
import type { MarketDataProvider } from './provider.ts';
import { createSimulatedProvider } from './simulated.ts';
import { createTwelveDataProvider } from './twelvedata.ts';
import { createYahooProvider } from './yahoo.ts';

/** Picks the provider named by `PROVIDER`, one file each. Keys and base URLs were checked by loadConfig. */
export function createProvider(
  config: Config['provider'],
  clock: Clock,
  logger?: ProviderLogger,
  metrics?: Pick<Metrics, 'upstreamRequestSeconds'>,
): MarketDataProvider {
  if (config.name === 'simulated') return createSimulatedProvider({ seed: config.seed, clock });
  const options: LiveProviderOptions = {
    apiKey: config.apiKey,
    baseUrl: config.baseUrl!,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    budgetMax: config.budget?.max,
    clock,
    logger,
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
