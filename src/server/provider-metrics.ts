import { Gauge, type Registry } from 'prom-client';
import { onePerScrape } from '../metrics.ts';
import type { ProviderStatus } from '../providers/provider-status.ts';

const CIRCUIT_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * The provider's circuit breaker in /metrics, read from Redis at each scrape (the workers keep it there):
 * an operator sees an outage, and that the app stopped asking, without reading logs.
 */
export function registerProviderMetrics(registry: Registry, status: () => Promise<ProviderStatus>): void {
  const registers = [registry];
  // One read serves both gauges of a scrape.
  const read = onePerScrape(status);
  new Gauge({
    name: 'stockstreamer_provider_circuit',
    help: 'The provider circuit breaker: 0 closed, 1 half-open (probing), 2 open (not asked).',
    labelNames: ['provider'],
    registers,
    async collect() {
      const current = await read();
      if (current) this.set({ provider: current.name }, CIRCUIT_VALUE[current.breaker.state]);
    },
  });
  new Gauge({
    name: 'stockstreamer_provider_failures_in_a_row',
    help: 'Provider requests that failed in a row (5xx, unreachable, timed out).',
    labelNames: ['provider'],
    registers,
    async collect() {
      const current = await read();
      if (current) this.set({ provider: current.name }, current.breaker.failures);
    },
  });
}
