/**
 * When to retry the live stream and what to tell the viewer meanwhile. Pure, so the timing is a table in a
 * spec rather than a test that sleeps.
 */
import type { ConnectionStatus } from './types.ts';

/** First retry waits about this long; each further failure doubles it. */
export const FIRST_RETRY_MS = 1000;
/** No wait grows beyond this: a server back from a deploy is noticed within half a minute. */
export const MAX_RETRY_MS = 30_000;
/** After this many failed attempts in a row the pill stops saying "reconnecting" and says "offline". */
export const OFFLINE_AFTER_FAILURES = 3;

/**
 * How long to wait before retry number `attempt` (0 for the first retry after a drop): exponential, capped,
 * with "equal jitter" (between half and all of the step) so that a restarted server is not hit by every open
 * page in the same millisecond. `random` is injectable for tests and must return a value in [0, 1).
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, Math.floor(attempt)));
  return Math.round(step / 2 + (step / 2) * random());
}

/** The status to show while waiting for retry number `attempt` (0-based). */
export function statusWhileRetrying(attempt: number): ConnectionStatus {
  return attempt < OFFLINE_AFTER_FAILURES ? 'reconnecting' : 'offline';
}
