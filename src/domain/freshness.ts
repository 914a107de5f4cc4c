/**
 * How fresh the prices are, per ticker and for the whole deployment: the last good observation and the
 * last fetch's outcome with the provider's reason, and what that means for a viewer. Pure: the state is
 * read from Redis elsewhere (src/freshness-store.ts) and "now" is passed in.
 */

/** What the last price fetch came to. */
export type FetchOutcome = 'ok' | 'provider_error' | 'rate_limited' | 'unknown_symbol';

/** The record kept per ticker, and once for the deployment (any ticker's fetch). */
export interface FreshnessRecord {
  lastOutcome: FetchOutcome;
  /** The provider's reason for the last outcome when it was not ok. */
  reason: string | undefined;
  /** When the last fetch was made (ms since the epoch). */
  lastAttemptAt: number;
  /** When the last good price was fetched and stored (ms), or undefined when none ever was. */
  lastGoodAt: number | undefined;
  /** Since when the last outcome has held (ms): the start of the current fault, or of the good run. */
  outcomeSince: number;
}

/**
 * What a viewer is told. `live`: a good price came within the window. `stale`: none came, though the
 * provider did not refuse (workers stopped, the database refused the write). `provider_error`: none came
 * and the provider's last answer was a fault. `pending`: no fetch has been made yet.
 */
export type FreshnessState = 'live' | 'stale' | 'provider_error' | 'pending';

export interface Freshness {
  state: FreshnessState;
  lastGoodAt: Date | undefined;
  lastOutcome: FetchOutcome | undefined;
  /** Why it is not live, in words a viewer can act on; undefined when live. */
  reason: string | undefined;
  /** Seconds since the last good price, or undefined when none ever came. */
  ageSeconds: number | undefined;
}

/** A price older than this many intervals means the feed is not live. */
export const STALE_AFTER_INTERVALS = 3;

/**
 * How long without a good price before the feed is stale: a few intervals, so one failed fetch (retried
 * within the interval by the job's backoff) does not flip the page, and at least 15 s, so a sub-second
 * interval does not flip it on a scheduler hiccup.
 */
export function staleAfterMs(priceIntervalMs: number): number {
  return Math.max(15_000, STALE_AFTER_INTERVALS * priceIntervalMs);
}

export function assessFreshness(
  record: FreshnessRecord | undefined,
  now: number,
  staleAfter: number,
): Freshness {
  if (!record) {
    return {
      state: 'pending',
      lastGoodAt: undefined,
      lastOutcome: undefined,
      reason: 'no price fetch has run yet',
      ageSeconds: undefined,
    };
  }
  const { lastGoodAt, lastOutcome } = record;
  const ageMs = lastGoodAt === undefined ? undefined : Math.max(0, now - lastGoodAt);
  const base = {
    lastGoodAt: lastGoodAt === undefined ? undefined : new Date(lastGoodAt),
    lastOutcome,
    ageSeconds: ageMs === undefined ? undefined : ageMs / 1000,
  };
  if (ageMs !== undefined && ageMs <= staleAfter) return { ...base, state: 'live', reason: undefined };
  const since = lastGoodAt === undefined ? 'no good price yet' : `no good price for ${formatAge(ageMs!)}`;
  if (lastOutcome === 'ok') {
    return {
      ...base,
      state: 'stale',
      reason: `${since}; the last fetch succeeded but nothing newer was stored`,
    };
  }
  return {
    ...base,
    state: 'provider_error',
    reason: `${since}: ${record.reason ?? lastOutcome.replace('_', ' ')}`,
  };
}

/** "42 s", "7 min", "3 h 5 min": the age as a person reads it. */
export function formatAge(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/**
 * The state after one fetch, from the state before it. Pure, so the same rule runs in the store's Redis
 * script and in tests. A late job (an older slot finishing after a newer one) neither moves the last good
 * time back nor overwrites a newer outcome.
 */
export function nextRecord(
  previous: FreshnessRecord | undefined,
  fetch: { outcome: FetchOutcome; reason: string | undefined; at: number },
): FreshnessRecord {
  const good = fetch.outcome === 'ok' ? fetch.at : undefined;
  const lastGoodAt =
    previous?.lastGoodAt === undefined ? good : Math.max(previous.lastGoodAt, good ?? previous.lastGoodAt);
  if (previous && fetch.at < previous.lastAttemptAt) return { ...previous, lastGoodAt };
  const same = previous?.lastOutcome === fetch.outcome;
  return {
    lastOutcome: fetch.outcome,
    reason: fetch.reason,
    lastAttemptAt: fetch.at,
    lastGoodAt,
    outcomeSince: same ? previous!.outcomeSince : fetch.at,
  };
}
