/**
 * Socket errors that mean only "the client went away": a closed tab, a reset connection, a request body
 * cut short. Each is normal on the open web, says nothing about the server, and must not be logged as a
 * warning with a stack (a busy page would fill the log with them).
 */
const DISCONNECT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_HTTP_REQUEST_TIMEOUT',
]);

export function isClientDisconnect(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && DISCONNECT_CODES.has(code)) return true;
  return typeof message === 'string' && /^(aborted|Premature close|socket hang up)$/i.test(message);
}

/** What a debug line says about a disconnect: its code and message, no stack. */
export function describeDisconnect(error: unknown): { code?: unknown; reason?: unknown } {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return { code, reason: message };
}
