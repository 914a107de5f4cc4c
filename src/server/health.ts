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

/** ioredis' states while a connection is being made (a lost one is 'reconnecting' between attempts). */
const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/**
 * PING on a connection that queues nothing: one still making its first connection (a process that has just
 * started) is given the deadline to become ready instead of being reported down; one that lost Redis
 * (waiting out a retry delay) is reported down at once, as the ping fails with nothing queued.
 */
async function pingWhenConnected(redis: Redis, timeoutMs: number): Promise<unknown> {
  if (CONNECTING.has(redis.status)) await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
  return redis.ping();
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
  return async (): Promise<HealthReport> => {
    const [postgres, redis, prices] = await Promise.all([
      outcomeWithin(options.pool.query('select 1'), timeoutMs).then((o) => o === 'resolved'),
      outcomeWithin(pingWhenConnected(options.redis, timeoutMs), timeoutMs).then((o) => o === 'resolved'),
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
