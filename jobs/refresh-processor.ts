import { type Job, UnrecoverableError } from 'bullmq';
import type { WatchlistRepository } from '../src/db/watchlist-repository.ts';
import {
  type BatchResult,
  type CircuitOpenError,
  type FetchOptions,
  type MarketDataProvider,
  ProviderError,
  type ProviderRateLimitedError,
} from '../src/providers/provider.ts';
import {
  callProvider,
  describeFailures,
  type ProviderJobDeps,
  rateLimitWait,
  slowDown,
  sortFailures,
  waitForTurn,
  wasNotSent,
} from './provider-faults.ts';

/**
 * How long a name, logo or range request waits in the job for its turn in the budget's extra share before
 * the job is put back to wait instead (a daily plan's turns are an hour apart).
 */
const MAX_INLINE_BUDGET_WAIT_MS = 120_000;

/** `onlyMissing` is set on the one-off job queued at start, so a restart does not refetch what is stored. */
export interface RefreshJobData {
  onlyMissing?: boolean;
  /** Symbols still to do after a rate limit or a transient fault; a rerun fetches only these. */
  pending?: string[];
  /** Totals of earlier runs of this job. */
  carried?: RefreshJobResult;
}

export interface RefreshJobResult {
  requested: number;
  saved: number;
  failed: { symbol: string; error: string }[];
  /** How many were filled in by the fallback (52-week ranges from stored prices). */
  fromFallback?: number;
}

export type RefreshProcessorDeps = ProviderJobDeps;

/** What differs between the slow "refresh what we know about each ticker" jobs (logos, 52-week ranges). */
export interface RefreshKind<T> {
  what: string;
  missing(watchlist: WatchlistRepository): Promise<string[]>;
  fetch(
    provider: MarketDataProvider,
    symbols: readonly string[],
    options: FetchOptions,
  ): Promise<BatchResult<T>>;
  save(watchlist: WatchlistRepository, items: readonly T[]): Promise<void>;
  /** For symbols the provider has no such data for (MissingDataError): what the app can offer instead. */
  fallback?(deps: RefreshProcessorDeps, symbols: readonly string[]): Promise<T[]>;
  symbolOf(item: T): string;
  /**
   * Whether an answer proves the provider knows the symbol, so its "unknown" mark can go. Not for logos:
   * some providers answer a ticker they do not know with an empty profile, which becomes a monogram.
   */
  provesKnown: boolean;
}

/**
 * The shape shared by the slow jobs: fetch a batch, upsert what came back, and deal with the rest one by
 * one so that one bad ticker never costs the others. These run every 83 minutes, so unlike prices a symbol
 * that failed transiently is retried on its own with backoff (the job keeps it as `pending`); a rate limit
 * pauses the queues and reruns the job for the rest without spending an attempt; an unknown symbol is
 * marked on the watchlist, and a 52-week range that comes back for it later clears the mark.
 */
export function createRefreshProcessor<T>(deps: RefreshProcessorDeps, kind: RefreshKind<T>) {
  return async (
    job: Job<RefreshJobData>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<RefreshJobResult> => {
    const carried = job.data.carried ?? { requested: 0, saved: 0, failed: [], fromFallback: 0 };
    const symbols =
      job.data.pending ??
      (job.data.onlyMissing ? await kind.missing(deps.watchlist) : await deps.watchlist.enabledTickers());
    if (symbols.length === 0) return carried;

    const fetched = await callProvider(deps, job, symbols, () =>
      kind.fetch(deps.provider, symbols, {
        signal,
        budget: deps.budget,
        breaker: deps.breaker,
        lane: 'extra',
        maxBudgetWaitMs: MAX_INLINE_BUDGET_WAIT_MS,
      }),
    );
    // Our own budget's extra share had no turn left within the wait, or the circuit is open: these wait
    // for the time named, this job only.
    const refused = fetched.failed.filter((f) => wasNotSent(f.error));
    const result = { ok: fetched.ok, failed: fetched.failed.filter((f) => !wasNotSent(f.error)) };
    const sorted = sortFailures(result.failed);
    const fallback =
      kind.fallback && sorted.missing.length > 0
        ? await kind.fallback(
            deps,
            sorted.missing.map((m) => m.symbol),
          )
        : [];
    await kind.save(deps.watchlist, [...result.ok, ...fallback]);
    if (kind.provesKnown) await deps.watchlist.clearUnknown(result.ok.map(kind.symbolOf));
    await deps.watchlist.markUnknown(deps.provider.name, sorted.unknown);

    const fellBack = new Set(fallback.map(kind.symbolOf));
    const retry = [
      ...refused.map((f) => f.symbol),
      ...(sorted.limited?.symbols ?? []),
      ...sorted.other.map((o) => o.symbol),
    ];
    const retrying = new Set(retry);
    const final = result.failed.filter((f) => !retrying.has(f.symbol) && !fellBack.has(f.symbol));
    for (const f of final) deps.logger.warn({ symbol: f.symbol, err: f.error }, `${kind.what} fetch failed`);
    const total: RefreshJobResult = {
      requested: job.data.pending ? carried.requested : carried.requested + symbols.length,
      saved: carried.saved + result.ok.length + fallback.length,
      failed: [...carried.failed, ...describeFailures(final)],
      fromFallback: (carried.fromFallback ?? 0) + fallback.length,
    };

    if (retry.length > 0) {
      await job.updateData({ ...job.data, pending: retry, carried: total });
    }
    if (refused.length > 0 && !sorted.limited) {
      const waitMs = rateLimitWait(
        refused.map((f) => f.error as ProviderRateLimitedError | CircuitOpenError),
      );
      return waitForTurn(deps, job, token, waitMs, `${retry.length} ${kind.what}s wait for their turn`);
    }
    if (sorted.limited) {
      return slowDown(deps, job, sorted.limited.waitMs, `${retry.length} ${kind.what}s not fetched yet`);
    }
    if (sorted.other.length > 0) {
      const first = sorted.other[0]!;
      throw new ProviderError(
        deps.provider.name,
        `${kind.what}: ${sorted.other.length} of ${symbols.length} symbols failed and will be retried; ${first.symbol}: ${first.error.message}`,
      );
    }
    if (result.ok.length === 0 && fallback.length === 0 && sorted.unknown.length === symbols.length) {
      throw new UnrecoverableError(sorted.unknown.map((u) => u.reason).join('; '));
    }
    return total;
  };
}
