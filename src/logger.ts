import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from './config.ts';

/**
 * JSON logs to stdout (journald and any collector read them); the level comes from `LOG_LEVEL`. Errors go
 * under `err`, through {@link serializeError}.
 */
export function createLogger(level: Config['logLevel'], destination?: DestinationStream): Logger {
  const options = { level, base: { app: 'stockstreamer' }, serializers: { err: serializeError } };
  return destination ? pino(options, destination) : pino(options);
}

/** What a log line keeps of an error. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: SerializedError;
}

/**
 * Keeps an error's name, message, code and stack (and its cause, by the same rule) and drops everything
 * else. Client errors carry their client: a pg error reached the log with the connection's internals, its
 * cancel `secretKey` included, and ioredis errors carry commands and their arguments. pino's standard
 * serialiser copies every enumerable property, so it is not used.
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
  if (!(value instanceof Error)) {
    const text = typeof value === 'string' ? value : safeString(value);
    return { name: 'NonError', message: text };
  }
  const { code } = value as { code?: unknown };
  // A refused connect to a name with two addresses is an AggregateError whose own message is empty.
  const message =
    value.message || (value instanceof AggregateError ? value.errors.map(String).join('; ') : '');
  return {
    name: value.name,
    message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(value.stack ? { stack: value.stack } : {}),
    ...(value.cause !== undefined && depth < 3 ? { cause: serializeError(value.cause, depth + 1) } : {}),
  };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
