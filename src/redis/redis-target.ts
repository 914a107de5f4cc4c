import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, RedisSentinelConfig } from '../config.ts';
import { redactUrl } from '../db/client.ts';
import { type RedisOrigin, resolveRedis } from './local-redis.ts';

/**
 * Where every Redis client of a process connects: one address, or the sentinels that know the primary.
 * Every client (BullMQ's, the budget's, pub/sub's, the limiter's) is built from this, so all of them follow
 * a failover together.
 */
export type RedisTarget =
  | Readonly<{ kind: 'url'; url: string }>
  | Readonly<{ kind: 'sentinel'; sentinel: RedisSentinelConfig }>;

export interface ResolvedRedisTarget {
  target: RedisTarget;
  origin: RedisOrigin | 'sentinel';
  /** Stops the private redis-server if one was started for this process. Idempotent. */
  stop(): Promise<void>;
}

/** The sentinels when configured; otherwise REDIS_URL, the local default or a private server (local-redis.ts). */
export async function resolveRedisTarget(
  config: Pick<Config, 'redis' | 'dataDir'>,
  logger: Logger,
): Promise<ResolvedRedisTarget> {
  const { sentinel } = config.redis;
  if (sentinel) return { target: { kind: 'sentinel', sentinel }, origin: 'sentinel', stop: async () => {} };
  const resolved = await resolveRedis({ url: config.redis.url, dataDir: config.dataDir, logger });
  return { target: { kind: 'url', url: resolved.url }, origin: resolved.origin, stop: resolved.stop };
}

/**
 * A new client of the target. Under Sentinel it asks the sentinels for the primary on every (re)connect, so
 * a client whose primary died reconnects to the one they promote; a primary demoted under a live client has
 * its clients killed by the sentinels, and a READONLY reply from it (a command that got there first) makes
 * the client reconnect and send that command again, to the new primary.
 *
 * ioredis's `failoverDetector` is left off on purpose: its `+switch-master` handler disconnects a client that
 * is in the middle of reconnecting, which ends that client for good ("Connection is closed"), as seen in
 * test/integration/redis-sentinel.test.ts.
 */
export function createRedisClient(target: RedisTarget, options: RedisOptions = {}): Redis {
  if (target.kind === 'url') return new Redis(target.url, options);
  const { sentinel } = target;
  return new Redis({
    sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    name: sentinel.masterName,
    ...(sentinel.password === undefined ? {} : { password: sentinel.password }),
    ...(sentinel.sentinelPassword === undefined ? {} : { sentinelPassword: sentinel.sentinelPassword }),
    // The client's own retry strategy paces reconnects to the primary; sentinels are asked at the same pace.
    ...(options.retryStrategy ? { sentinelRetryStrategy: options.retryStrategy } : {}),
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    ...options,
  });
}

/** For logs and the start banner, without passwords. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === 'url') return redactUrl(target.url);
  const { sentinels, masterName } = target.sentinel;
  return `sentinel ${masterName} via ${sentinels.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',')}`;
}
