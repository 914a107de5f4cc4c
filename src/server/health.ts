import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { outcomeWithin } from '../deadline.ts';
import type { Freshness } from '../domain/freshness.ts';

export interface HealthReport {
  status: 'ok' | 'degraded';
  postgres: boolean;
  redis: boolean;
  /** Why the status is degraded, in words; absent when ok. */
  reason?: string;
  /** The price feed, when this process can read it: not live means degraded, with the reason. */
  prices?: { state: Freshness['state']; reason?: string; ageSeconds?: number; lastGoodAt?: string };
}

/**
 * The HTTP status of a report: 503 only when this process cannot reach its own backends. A provider that
 * refuses us is reported as degraded with HTTP 200: a load balancer that dropped every API process while
 * the provider is down would take the history and the explanation away from viewers, and fix nothing.
 */
export function healthHttpStatus(report: HealthReport): number {
  return report.postgres && report.redis ? 200 : 503;
}

/**
 * Asks each backend a trivial question with a short deadline. Redis is asked on a connection that queues
 * nothing while disconnected, so an outage answers "down" at once instead of waiting for a reconnect.
 * `prices`, when given, says whether good prices are arriving (src/domain/freshness.ts).
 */
export function createHealthCheck(options: {
  pool: pg.Pool;
  redis: Redis;
  timeoutMs?: number;
  prices?: () => Promise<Freshness>;
}) {
  const timeoutMs = options.timeoutMs ?? 1500;
  // A process that has just started may be asked before its probe connection's first connect is done:
  // that is not an outage, so until the first 'ready' a probe waits for it (within the deadline). After
  // that, a lost connection answers "down" at once, as the PING fails with nothing queued.
  let firstConnect: Promise<unknown> | undefined =
    options.redis.status === 'ready' ? undefined : once(options.redis, 'ready').catch(() => undefined);
  void firstConnect?.then(() => {
    firstConnect = undefined;
  });
  const pingRedis = async () => {
    if (firstConnect) await firstConnect;
    return options.redis.ping();
  };
  return async (): Promise<HealthReport> => {
    const [postgres, redis, prices] = await Promise.all([
      outcomeWithin(options.pool.query('select 1'), timeoutMs).then((o) => o === 'resolved'),
      outcomeWithin(pingRedis(), timeoutMs).then((o) => o === 'resolved'),
      options.prices?.().catch(() => undefined),
    ]);
    const down = [postgres ? [] : ['postgres'], redis ? [] : ['redis']].flat();
    const stale = prices && prices.state !== 'live' && prices.state !== 'pending';
    const reason = [
      ...(down.length > 0 ? [`not reachable: ${down.join(', ')}`] : []),
      ...(stale ? [`prices ${prices.state.replace('_', ' ')}: ${prices.reason}`] : []),
    ].join('; ');
    return {
      status: reason ? 'degraded' : 'ok',
      postgres,
      redis,
      ...(reason ? { reason } : {}),
      ...(prices
        ? {
            prices: {
              state: prices.state,
              ...(prices.reason ? { reason: prices.reason } : {}),
              ...(prices.ageSeconds !== undefined ? { ageSeconds: prices.ageSeconds } : {}),
              ...(prices.lastGoodAt ? { lastGoodAt: prices.lastGoodAt.toISOString() } : {}),
            },
          }
        : {}),
    };
  };
}
