import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Clock } from '../src/clock.ts';
import type { WatchlistRepository } from '../src/db/watchlist-repository.ts';
import type { FetchOutcome } from '../src/domain/freshness.ts';
import type { CircuitBreaker } from '../src/providers/circuit-breaker.ts';
import {
  type BatchResult,
  CircuitOpenError,
  type MarketDataProvider,
  MissingDataError,
  ProviderAuthError,
  ProviderConfigError,
  ProviderError,
  ProviderRateLimitedError,
  type RequestBudget,
  UnknownSymbolError,
} from '../src/providers/provider.ts';
import type { RequestPlan } from '../src/providers/request-plan.ts';

/**
 * How the jobs turn provider faults into BullMQ's behaviour (CONVENTIONS: a domain error decides the queue's
 * fate):
 * - rate limited (HTTP 429, an in-body limit, or our own budget used up): every queue pauses for the stated
 *   window through BullMQ's rate limiter (a key in Redis, so all workers pause), and the job goes back to
 *   waiting with `Worker.RateLimitError()` — no attempt is spent. What was fetched before the limit is kept.
 * - a rejected key or plan: `UnrecoverableError`, the job fails at once; retrying cannot fix a key.
 * - an unknown symbol: that symbol only is marked on the watchlist and never retried; the others are stored.
 * - anything else (5xx, timeouts, unreachable, garbage): rethrown, so BullMQ retries with exponential
 *   backoff and jitter, a bounded number of times (JOB_OPTIONS).
 */
export interface ProviderJobDeps {
  provider: MarketDataProvider;
  watchlist: WatchlistRepository;
  logger: Logger;
  clock: Clock;
  /** The request budget shared by all workers, when PROVIDER_BUDGET (or the provider's default) sets one. */
  budget?: RequestBudget;
  /** The provider's circuit breaker, shared by all workers through Redis. */
  breaker?: CircuitBreaker;
  /** How the budget is shared out (request-plan.ts), when there is one. */
  plan?: RequestPlan;
  /** Pauses every queue of this deployment for `ms`, for all workers (BullMQ's queue rate limit). */
  rateLimit(ms: number): Promise<void>;
}

/** When a limit states no window: long enough for a per-minute window to have moved on. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 30_000;
const MIN_WAIT_MS = 100;
const MAX_WAIT_MS = 86_400_000;

export interface SortedFailures {
  unknown: { symbol: string; reason: string }[];
  /** The provider has no such data for these (MissingDataError); a fallback may apply. */
  missing: { symbol: string; error: Error }[];
  /** Not fetched because of a rate limit, and how long to wait before asking again. */
  limited: { symbols: string[]; waitMs: number } | undefined;
  /** Transient faults: worth retrying with backoff. */
  other: { symbol: string; error: Error }[];
}

export function sortFailures(failed: BatchResult<unknown>['failed']): SortedFailures {
  const sorted: SortedFailures = { unknown: [], missing: [], limited: undefined, other: [] };
  const limits: ProviderRateLimitedError[] = [];
  const limitedSymbols: string[] = [];
  for (const { symbol, error } of failed) {
    if (error instanceof UnknownSymbolError) sorted.unknown.push({ symbol, reason: error.message });
    else if (error instanceof MissingDataError) sorted.missing.push({ symbol, error });
    else if (error instanceof ProviderRateLimitedError) {
      limits.push(error);
      limitedSymbols.push(symbol);
    } else sorted.other.push({ symbol, error });
  }
  if (limitedSymbols.length > 0) sorted.limited = { symbols: limitedSymbols, waitMs: rateLimitWait(limits) };
  return sorted;
}

/** The longest window any of the limits stated, within sane bounds. */
export function rateLimitWait(limits: readonly { retryAfterMs: number | undefined }[]): number {
  const stated = limits.map((l) => l.retryAfterMs).filter((ms): ms is number => ms !== undefined);
  const wait = stated.length > 0 ? Math.max(...stated) : DEFAULT_RATE_LIMIT_WAIT_MS;
  return Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, Math.ceil(wait)));
}

/**
 * Pauses every queue for `waitMs` and hands the job back to BullMQ as rate-limited: it waits and runs again
 * after the window, with its attempts untouched. Always throws.
 */
export async function slowDown(
  deps: Pick<ProviderJobDeps, 'rateLimit' | 'logger' | 'provider'>,
  job: Job,
  waitMs: number,
  reason: string,
): Promise<never> {
  deps.logger.warn(
    { provider: deps.provider.name, queue: job.queueName, jobId: job.id, waitMs, reason },
    'provider rate limit: pausing the queues',
  );
  await deps.rateLimit(waitMs);
  throw Worker.RateLimitError();
}

/**
 * Nothing was sent: our own budget said no (as opposed to the provider answering 429), or the provider's
 * circuit is open. Such a symbol is not retried with backoff; it waits for the time the error names.
 */
export function wasNotSent(error: Error): error is ProviderRateLimitedError | CircuitOpenError {
  return (
    (error instanceof ProviderRateLimitedError && error.source === 'budget') ||
    error instanceof CircuitOpenError
  );
}

/**
 * Puts this job (only) back until `waitMs` from now, keeping its data: our own budget's turn for names
 * and logos is not a reason to pause the price queue as a provider's 429 is. Always throws.
 */
export async function waitForTurn(
  deps: Pick<ProviderJobDeps, 'logger'>,
  job: Job,
  token: string | undefined,
  waitMs: number,
  reason: string,
): Promise<never> {
  deps.logger.info({ queue: job.queueName, jobId: job.id, waitMs, reason }, 'waiting for the budget');
  await job.moveToDelayed(Date.now() + Math.max(MIN_WAIT_MS, waitMs), token);
  throw new DelayedError();
}

/**
 * Calls the provider for the whole batch. Our own budget refusing the whole call hands every symbol back
 * as failed with it (the caller decides: a price slot skips, a refresh waits its turn); a provider's rate
 * limit records `symbols` as the job's `pending` work and slows every queue down; a rejected key or a
 * wrong base URL fails the job without retry; anything else is rethrown for BullMQ's backoff.
 */
export async function callProvider<T, D extends { pending?: string[] }>(
  deps: Pick<ProviderJobDeps, 'rateLimit' | 'logger' | 'provider'>,
  job: Job<D>,
  symbols: readonly string[],
  call: () => Promise<BatchResult<T>>,
): Promise<BatchResult<T>> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && wasNotSent(error)) {
      return { ok: [], failed: symbols.map((symbol) => ({ symbol, error })) };
    }
    if (error instanceof ProviderConfigError) throw new UnrecoverableError(error.message);
    if (error instanceof ProviderRateLimitedError) {
      await job.updateData({ ...job.data, pending: [...symbols] });
      return slowDown(deps, job, rateLimitWait([error]), error.message);
    }
    if (error instanceof ProviderAuthError) throw new UnrecoverableError(error.message);
    throw error;
  }
}

/** `AAPL: finnhub: …` lines for job results and logs. */
export function describeFailures(
  failed: BatchResult<unknown>['failed'],
): { symbol: string; error: string }[] {
  return failed.map((f) => ({ symbol: f.symbol, error: f.error.message }));
}

/**
 * What a fetch's error means for the freshness record, or undefined when it is not the provider's fault
 * (an aborted job, a bug): those are not reported as the provider's reason.
 */
export function faultOutcome(error: unknown): FetchOutcome | undefined {
  if (error instanceof ProviderRateLimitedError) return 'rate_limited';
  if (error instanceof UnknownSymbolError) return 'unknown_symbol';
  if (error instanceof ProviderError) return 'provider_error';
  return undefined;
}

/** Longest reason kept: enough for the provider's own words, short enough for a page and a metric label. */
const MAX_REASON_CHARS = 300;

/** The provider's reason as a viewer reads it: the error's message, bounded. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_REASON_CHARS ? `${message.slice(0, MAX_REASON_CHARS - 1)}…` : message;
}
