import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { MarketDataProvider } from './provider.ts';
import { createSimulatedProvider } from './simulated.ts';

/** Picks the provider named by `PROVIDER`. Live providers are added here, one file each. */
export function createProvider(config: Config['provider'], clock: Clock): MarketDataProvider {
  switch (config.name) {
    case 'simulated':
      return createSimulatedProvider({ seed: config.seed, clock });
  }
}
