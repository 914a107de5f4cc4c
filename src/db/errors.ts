/** Socket-level codes of a server that is not there (stopped, restarting, unreachable). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * SQLSTATEs that mean "the server is going or coming", not "your statement is wrong": class 08 (connection
 * exception), 57P01–57P03 (terminated by a shutdown, crash recovery, or still starting up) and 53300 (too
 * many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;

/** What node-postgres says, in prose only, when a connection dies or cannot be made in time. */
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection (is )?closed/i,
  /client has encountered a connection error/i,
];

/**
 * True when `error` (or anything in its `cause` chain: Drizzle wraps driver errors) says PostgreSQL is
 * unreachable rather than that a statement failed. A job that meets this has done nothing wrong: it keeps
 * what it fetched and tries again later, however long the outage, instead of failing for good.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, cause, errors } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
      return true;
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(message)))
      return true;
    // net's "connect to every address" failure is an AggregateError of per-address ECONNREFUSEDs.
    if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = cause;
  }
  return false;
}

/**
 * True when a write into stock_prices met a day without a partition (drizzle/0011_*): PostgreSQL reports it
 * as a check violation (23514) whose message names the missing partition. Looked for through `cause`.
 */
export function isMissingPartition(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (code === '23514' && typeof message === 'string' && /^no partition of relation/.test(message))
      return true;
    current = cause;
  }
  return false;
}
