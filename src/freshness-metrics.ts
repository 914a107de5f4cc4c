import { assessFreshness, type Freshness } from './domain/freshness.ts';
import type { FreshnessSnapshot } from './freshness-store.ts';
import type { Metric } from './server/metrics.ts';

/**
 * The freshness records as /metrics gauges: ages rather than timestamps, so an alert is one comparison
 * (`stockstreamer_price_age_seconds > 60`). A ticker or deployment with no good price yet has no age
 * sample; `stockstreamer_price_feed_live` still says 0 for it.
 */
export function freshnessMetrics(
  snapshot: FreshnessSnapshot,
  watched: readonly string[],
  now: number,
  staleAfter: number,
): Metric[] {
  const deployment = assessFreshness(snapshot.deployment, now, staleAfter);
  const tickers = watched.map(
    (ticker) => [ticker, assessFreshness(snapshot.tickers.get(ticker), now, staleAfter)] as const,
  );
  const age = (f: Freshness) => (f.ageSeconds === undefined ? [] : [{ value: f.ageSeconds }]);
  return [
    {
      name: 'stockstreamer_price_age_seconds',
      help: 'Seconds since the last good price of any watched ticker was fetched and stored.',
      type: 'gauge',
      values: age(deployment),
    },
    {
      name: 'stockstreamer_price_feed_live',
      help: 'Whether good prices are arriving (1) or the feed is stale or failing (0), as /healthz reports.',
      type: 'gauge',
      values: [{ value: deployment.state === 'live' ? 1 : 0 }],
    },
    {
      name: 'stockstreamer_ticker_price_age_seconds',
      help: 'Seconds since the last good price of this ticker was fetched and stored.',
      type: 'gauge',
      values: tickers.flatMap(([ticker, f]) => age(f).map((v) => ({ ...v, labels: { ticker } }))),
    },
    {
      name: 'stockstreamer_ticker_last_fetch_ok',
      help: "Whether this ticker's last price fetch succeeded (1) or the provider answered with a fault (0).",
      type: 'gauge',
      values: tickers.map(([ticker, f]) => ({ labels: { ticker }, value: f.lastOutcome === 'ok' ? 1 : 0 })),
    },
  ];
}
