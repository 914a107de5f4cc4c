import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics, made once in the composition root (src/deps.ts) and handed to whoever
 * records. A registry of its own, never prom-client's global one: two apps in one test process, or a test
 * beside the app, must not share (or double-register) their series.
 *
 * Durations are in seconds, as Prometheus wants. Every process (api, worker, start) has the same set;
 * what a role does not do stays empty, so one dashboard reads a fleet of mixed roles.
 */
export interface Metrics {
  readonly registry: Registry;
  /** One upstream HTTP request, by provider and endpoint (`/quote`, `GLOBAL_QUOTE`, `logo`), answered or not. */
  readonly upstreamRequestSeconds: Histogram<'provider' | 'endpoint'>;
  /**
   * Provider failures by capability (`quotes`, `profiles`, `ranges`) and kind (`upstreamErrorKind`): one per
   * failed symbol, or one for a call that failed as a whole.
   */
  readonly upstreamErrors: Counter<'provider' | 'capability' | 'kind'>;
  /** PROVIDER_BUDGET: requests allowed per window (absent when the budget is off). */
  readonly upstreamBudget: Gauge<'provider'>;
  readonly upstreamBudgetWindow: Gauge<'provider'>;
  /** A BullMQ job from start to end of processing, by queue and outcome (`completed`, `failed`). */
  readonly jobSeconds: Histogram<'queue' | 'outcome'>;
  /** From a price job's scheduler slot to its ticks committed in PostgreSQL: the pipeline's latency. */
  readonly slotToStoredSeconds: Histogram;
  /** From the ticks committed to their publication on Redis pub/sub. */
  readonly storedToPublishedSeconds: Histogram;
  /** New rows written to stock_prices. */
  readonly ticksStored: Counter;
  /** Ticks the history jobs stored (backfill and gap repair). */
  readonly ticksBackfilled: Counter;
  /** A `priceHistory` read, from the cache or the database. */
  readonly historyReadSeconds: Histogram;
}

/** Upstream answers take from a few ms (a proxy) to the 5 s default timeout and beyond. */
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A slot is due every 5 s by default; the interesting range is a few ms to a few intervals. */
const PIPELINE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export function createMetrics(): Metrics {
  const registry = new Registry();
  // No role label of our own: which process a series came from is the scrape's `job` and `instance`.
  // CPU, RSS, heap by space, GC pauses, event-loop lag, handles: prom-client's standard process metrics.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    upstreamRequestSeconds: new Histogram({
      name: 'stockstreamer_upstream_request_seconds',
      help: 'Upstream market-data requests by provider and endpoint, answered or failed.',
      labelNames: ['provider', 'endpoint'],
      buckets: UPSTREAM_BUCKETS,
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'stockstreamer_upstream_errors_total',
      help: 'Market-data provider failures by provider, capability (quotes, profiles, ranges) and kind.',
      labelNames: ['provider', 'capability', 'kind'],
      registers,
    }),
    upstreamBudget: new Gauge({
      name: 'stockstreamer_upstream_budget_requests',
      help: 'Upstream requests the PROVIDER_BUDGET allows per window, for the whole deployment.',
      labelNames: ['provider'],
      registers,
    }),
    upstreamBudgetWindow: new Gauge({
      name: 'stockstreamer_upstream_budget_window_seconds',
      help: 'The PROVIDER_BUDGET window.',
      labelNames: ['provider'],
      registers,
    }),
    jobSeconds: new Histogram({
      name: 'stockstreamer_job_seconds',
      help: 'BullMQ job processing time by queue and outcome.',
      labelNames: ['queue', 'outcome'],
      buckets: PIPELINE_BUCKETS,
      registers,
    }),
    slotToStoredSeconds: new Histogram({
      name: 'stockstreamer_slot_to_stored_seconds',
      help: "From a price job's scheduler slot to its ticks committed in PostgreSQL.",
      buckets: PIPELINE_BUCKETS,
      registers,
    }),
    storedToPublishedSeconds: new Histogram({
      name: 'stockstreamer_stored_to_published_seconds',
      help: 'From ticks committed in PostgreSQL to their publication on Redis pub/sub.',
      buckets: FAST_BUCKETS,
      registers,
    }),
    ticksStored: new Counter({
      name: 'stockstreamer_ticks_stored_total',
      help: 'New price ticks written to stock_prices.',
      registers,
    }),
    ticksBackfilled: new Counter({
      name: 'stockstreamer_ticks_backfilled_total',
      help: 'Ticks written to stock_prices by the history jobs (backfill and gap repair).',
      registers,
    }),
    historyReadSeconds: new Histogram({
      name: 'stockstreamer_history_read_seconds',
      help: 'priceHistory reads (M4-reduced series, from the cache or PostgreSQL).',
      buckets: FAST_BUCKETS,
      registers,
    }),
  };
}

/** The kind label of a failed upstream request, from the named errors of src/providers/provider.ts. */
export function upstreamErrorKind(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ProviderRateLimitedError') {
    return (error as { source?: string }).source === 'budget' ? 'budget' : 'rate_limited';
  }
  return (
    {
      ProviderTimeoutError: 'timeout',
      ProviderUnavailableError: 'unavailable',
      ProviderAuthError: 'auth',
      InvalidProviderResponseError: 'invalid',
      UnknownSymbolError: 'unknown_symbol',
      MissingDataError: 'missing_data',
      AbortError: 'aborted',
    }[name] ?? 'other'
  );
}

/**
 * Several gauges of one scrape each collect on their own; this lets them share one read of what they
 * draw (a Redis hash, a status): the first collect starts it, the rest of that scrape's turn reuse it, and
 * the next scrape reads afresh. A read that fails gives undefined, and those gauges stay empty.
 */
export function onePerScrape<T>(read: () => Promise<T>): () => Promise<T | undefined> {
  let pending: Promise<T | undefined> | undefined;
  return () => {
    pending ??= read()
      .catch(() => undefined)
      .finally(() => {
        setImmediate(() => {
          pending = undefined;
        });
      });
    return pending;
  };
}
