import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RequestBudget } from './provider.ts';

/**
 * A sliding-window log in one Redis sorted set: one member per request taken, scored by Redis' own clock.
 * Taking is one atomic script, so any number of workers on any number of hosts share the budget exactly,
 * and no two of them can both take the last request of a window. A sliding window, not a fixed one: a
 * fixed window lets 2x the budget through across a boundary, which is what gets a key blocked upstream.
 *
 * Returns 0 when granted, otherwise the milliseconds until `weight` requests are free again.
 */
const TAKE_SCRIPT = `
local key = KEYS[1]
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local id = ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used + weight <= max then
  for i = 1, weight do
    redis.call('ZADD', key, now, id .. ':' .. i)
  end
  redis.call('PEXPIRE', key, window)
  return 0
end
local need = used + weight - max
local oldest = redis.call('ZRANGE', key, need - 1, need - 1, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
`;

export interface RedisRequestBudgetOptions {
  /** The Redis key; one per provider and deployment (QUEUE_PREFIX), e.g. `stockstreamer:budget:finnhub`. */
  key: string;
  max: number;
  windowMs: number;
}

export function createRedisRequestBudget(redis: Redis, options: RedisRequestBudgetOptions): RequestBudget {
  const { key, max, windowMs } = options;
  return {
    max,
    windowMs,
    async take(weight) {
      if (!Number.isInteger(weight) || weight < 1 || weight > max) {
        throw new RangeError(`a request budget of ${max} cannot grant ${weight} at once`);
      }
      const wait = await redis.eval(TAKE_SCRIPT, 1, key, max, windowMs, weight, randomUUID());
      return Number(wait);
    },
  };
}

/** Key of a provider's budget under a deployment's prefix, so two deployments on one Redis do not share. */
export function requestBudgetKey(prefix: string, provider: string): string {
  return `${prefix}:budget:${provider}`;
}
