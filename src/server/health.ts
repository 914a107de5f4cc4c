import type { Redis } from 'ioredis';
import type pg from 'pg';
import { outcomeWithin } from '../deadline.ts';

export interface HealthReport {
  status: 'ok' | 'degraded';
  postgres: boolean;
  redis: boolean;
}

/**
 * Asks each backend a trivial question with a short deadline. Redis is asked on a connection that queues
 * nothing while disconnected, so an outage answers "down" at once instead of waiting for a reconnect.
 */
export function createHealthCheck(options: { pool: pg.Pool; redis: Redis; timeoutMs?: number }) {
  const timeoutMs = options.timeoutMs ?? 1500;
  return async (): Promise<HealthReport> => {
    const [postgres, redis] = await Promise.all([
      outcomeWithin(options.pool.query('select 1'), timeoutMs).then((o) => o === 'resolved'),
      outcomeWithin(options.redis.ping(), timeoutMs).then((o) => o === 'resolved'),
    ]);
    return { status: postgres && redis ? 'ok' : 'degraded', postgres, redis };
  };
}
