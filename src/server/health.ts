import type { Redis } from 'ioredis';
import type pg from 'pg';

export interface HealthReport {
  status: 'ok' | 'degraded';
  postgres: boolean;
  redis: boolean;
}

/** Resolves false when `promise` has not settled successfully within `ms`; never rejects. */
async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks each backend a trivial question with a short deadline. Redis is asked on a connection that queues
 * nothing while disconnected, so an outage answers "down" at once instead of waiting for a reconnect.
 */
export function createHealthCheck(options: { pool: pg.Pool; redis: Redis; timeoutMs?: number }) {
  const timeoutMs = options.timeoutMs ?? 1500;
  return async (): Promise<HealthReport> => {
    const [postgres, redis] = await Promise.all([
      within(timeoutMs, options.pool.query('select 1')),
      within(timeoutMs, options.redis.ping()),
    ]);
    return { status: postgres && redis ? 'ok' : 'degraded', postgres, redis };
  };
}
