/** Socket codes of a Redis that is away (stopped, restarting, unreachable). */
const CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/**
 * True for the errors ioredis and BullMQ report, several times a second, while Redis is away: they say
 * nothing new after the first, so they are logged at debug and the outage itself once (src/deps.ts).
 */
export function isRedisConnectionError(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && CODES.has(code)) return true;
  return (
    typeof message === 'string' && /connection is closed|ECONNREFUSED|ECONNRESET|socket closed/i.test(message)
  );
}
