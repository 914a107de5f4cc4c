import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

/** JSON logs to stdout (journald and any collector read them); the level comes from `LOG_LEVEL`. */
export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, base: { app: 'stockstreamer' } });
}
