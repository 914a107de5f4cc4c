/** A token bucket's state: tokens left and when it was last refilled. */
export interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Takes one token at `nowMs` from a bucket holding up to `capacity` that refills `capacity` tokens every
 * `periodMs`. Returns the new state and, when empty, how long until a token is back (for Retry-After).
 */
export function takeToken(
  bucket: Bucket | undefined,
  nowMs: number,
  capacity: number,
  periodMs: number,
): { bucket: Bucket; allowed: boolean; retryAfterMs: number } {
  const rate = capacity / periodMs;
  const current = bucket
    ? Math.min(capacity, bucket.tokens + Math.max(0, nowMs - bucket.updatedMs) * rate)
    : capacity;
  if (current >= 1)
    return { bucket: { tokens: current - 1, updatedMs: nowMs }, allowed: true, retryAfterMs: 0 };
  return {
    bucket: { tokens: current, updatedMs: nowMs },
    allowed: false,
    retryAfterMs: Math.ceil((1 - current) / rate),
  };
}
