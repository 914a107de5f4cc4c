import { Gauge, type Registry } from 'prom-client';
import { assessFreshness, type Freshness } from './domain/freshness.ts';
import type { FreshnessSnapshot } from './freshness-store.ts';
import { onePerScrape } from './metrics.ts';

/** Where the freshness gauges read from at scrape time. */
export interface FreshnessMetricSources {
  snapshot(): Promise<FreshnessSnapshot>;
  /** The watched tickers: a ticker taken off the watchlist keeps its record but gets no series. */
  watched(): Promise<readonly string[]>;
  now(): number;
  /** How old the last good price may be before it is stale (from the provider's planned cadence). */
  staleAfterMs(): Promise<number>;
}

/**
 * The freshness records as /metrics gauges, computed when Prometheus scrapes: ages rather than timestamps,
 * so an alert is one comparison (`stockstreamer_price_age_seconds > 60`). A ticker or deployment with no
 * good price yet has no age sample; `stockstreamer_price_feed_live` still says 0 for it. A scrape that
 * cannot read the records (Redis away) leaves these gauges empty; `stockstreamer_up` says why.
 */
export function registerFreshnessMetrics(registry: Registry, sources: FreshnessMetricSources): void {
  const registers = [registry];
  // One read per scrape, shared by the four gauges (each collects on its own).
  const read = onePerScrape(async () => {
    const [snapshot, watched, staleAfterMs] = await Promise.all([
      sources.snapshot(),
      sources.watched(),
      sources.staleAfterMs(),
    ]);
    const now = sources.now();
    const assess = (record: Parameters<typeof assessFreshness>[0]) =>
      assessFreshness(record, now, staleAfterMs);
    return {
      deployment: assess(snapshot.deployment),
      tickers: watched.map((ticker): [string, Freshness] => [ticker, assess(snapshot.tickers.get(ticker))]),
    };
  });

  new Gauge({
    name: 'stockstreamer_price_age_seconds',
    help: 'Seconds since the last good price of any watched ticker was fetched and stored.',
    registers,
    async collect() {
      this.reset();
      const age = (await read())?.deployment.ageSeconds;
      if (age !== undefined) this.set(age);
    },
  });
  new Gauge({
    name: 'stockstreamer_price_feed_live',
    help: 'Whether good prices are arriving (1) or the feed is stale or failing (0), as /healthz reports.',
    registers,
    async collect() {
      this.reset();
      const found = await read();
      if (found) this.set(found.deployment.state === 'live' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'stockstreamer_ticker_price_age_seconds',
    help: 'Seconds since the last good price of this ticker was fetched and stored.',
    labelNames: ['ticker'],
    registers,
    async collect() {
      this.reset();
      for (const [ticker, f] of (await read())?.tickers ?? []) {
        if (f.ageSeconds !== undefined) this.set({ ticker }, f.ageSeconds);
      }
    },
  });
  new Gauge({
    name: 'stockstreamer_ticker_last_fetch_ok',
    help: "Whether this ticker's last price fetch succeeded (1) or the provider answered with a fault (0).",
    labelNames: ['ticker'],
    registers,
    async collect() {
      this.reset();
      for (const [ticker, f] of (await read())?.tickers ?? []) {
        this.set({ ticker }, f.lastOutcome === 'ok' ? 1 : 0);
      }
    },
  });
}
