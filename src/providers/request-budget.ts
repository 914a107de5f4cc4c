import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RequestBudget } from './provider.ts';
import type { RequestPlan } from './request-plan.ts';

/**
 * Two sliding-window logs in Redis sorted sets, one per lane (prices, and the "extra" names, logos and
 * ranges), one member per request taken, scored by Redis' own clock, and the extra lane's next free instant.
 * Taking is one atomic script, so any number of workers on any number of hosts (and `providers check`)
 * share the budget exactly, and no two of them can both take the last request of a window. Sliding, not
 * fixed: a fixed window lets 2x the budget through across a boundary, which is what gets a key blocked.
 *
 * - price (and the `check` of `providers check`, counted with prices): granted while both lanes together
 *   leave room for it in the window.
 * - extra: also only within its own share of the window (`extraMax`), and at least `spacing` after the
 *   previous extra request, so names and logos are spread out and can never take what prices were promised.
 * - every lane: at least `minSpacing` after the previous request of any lane (a provider's burst rule,
 *   such as Alpha Vantage's one a second).
 *
 * Returns 0 when granted, otherwise the milliseconds until it can be.
 */
const TAKE_SCRIPT = `
local priceLog, extraLog, extraNext, anyNext = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local id = ARGV[4]
local lane = ARGV[5]
local extraMax = tonumber(ARGV[6])
local spacing = tonumber(ARGV[7])
local now = tonumber(ARGV[8])
local minSpacing = tonumber(ARGV[9])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('ZREMRANGEBYSCORE', priceLog, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', extraLog, '-inf', now - window)
local function waitFor(log, need)
  local oldest = redis.call('ZRANGE', log, need - 1, need - 1, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
local extraUsed = redis.call('ZCARD', extraLog)
local used = redis.call('ZCARD', priceLog) + extraUsed
local anyAt = tonumber(redis.call('GET', anyNext) or '0')
if anyAt > now then return math.ceil(anyAt - now) end
if lane == 'extra' then
  local nextAt = tonumber(redis.call('GET', extraNext) or '0')
  if nextAt > now then return math.ceil(nextAt - now) end
  if extraUsed + weight > extraMax then return waitFor(extraLog, extraUsed + weight - extraMax) end
end
if used + weight > max then
  -- the oldest entries of both logs leave first; which log holds them does not matter for the wait
  local need = used + weight - max
  local merged = {}
  for _, log in ipairs({priceLog, extraLog}) do
    local entries = redis.call('ZRANGE', log, 0, need - 1, 'WITHSCORES')
    for i = 2, #entries, 2 do table.insert(merged, tonumber(entries[i])) end
  end
  table.sort(merged)
  local wait = merged[need] + window - now
  if wait < 1 then wait = 1 end
  return wait
end
if minSpacing > 0 then redis.call('SET', anyNext, now + minSpacing, 'PX', math.ceil(minSpacing)) end
local log = priceLog
if lane == 'extra' then
  log = extraLog
  redis.call('SET', extraNext, now + spacing * weight, 'PX', math.max(1, math.ceil(spacing * weight)))
end
for i = 1, weight do
  redis.call('ZADD', log, now, id .. ':' .. i)
end
redis.call('PEXPIRE', log, window)
return 0
`;

export interface RedisRequestBudgetOptions {
  /** The Redis key prefix; one per provider and deployment (QUEUE_PREFIX), e.g. `stockstreamer:budget:finnhub`. */
  key: string;
  max: number;
  windowMs: number;
  /** The extra lane's share and spacing (request-plan.ts); without one, both lanes share the whole window. */
  extraMax?: number;
  extraSpacingMs?: number;
  /** The least time between any two requests (the provider's burst rule). */
  minSpacingMs?: number;
  /** Milliseconds since the epoch, for tests on a manual clock; by default Redis' own clock. */
  now?: () => number;
}

export function createRedisRequestBudget(redis: Redis, options: RedisRequestBudgetOptions): RequestBudget {
  const { key, max, windowMs } = options;
  const extraMax = options.extraMax ?? max;
  const spacing = options.extraSpacingMs ?? 0;
  const keys = [`${key}:price`, `${key}:extra`, `${key}:extra-next`, `${key}:any-next`];
  return {
    max,
    windowMs,
    maxWeight: (lane) => (lane === 'extra' ? extraMax : max),
    async take(weight, lane = 'price') {
      const most = lane === 'extra' ? extraMax : max;
      if (!Number.isInteger(weight) || weight < 1 || weight > most) {
        throw new RangeError(`a request budget of ${most} (${lane}) cannot grant ${weight} at once`);
      }
      const now = options.now ? options.now() : -1;
      const wait = await redis.eval(
        TAKE_SCRIPT,
        keys.length,
        ...keys,
        max,
        windowMs,
        weight,
        randomUUID(),
        lane,
        extraMax,
        Number.isFinite(spacing) ? spacing : windowMs,
        now,
        options.minSpacingMs ?? 0,
      );
      return Number(wait);
    },
  };
}

/** The shared budget a plan describes: its counted window, its two lanes. */
export function createPlannedBudget(
  redis: Redis,
  key: string,
  plan: RequestPlan,
  now?: () => number,
): RequestBudget {
  return createRedisRequestBudget(redis, {
    key,
    max: plan.max,
    windowMs: plan.windowMs,
    extraMax: plan.extraMax,
    extraSpacingMs: plan.extraSpacingMs,
    minSpacingMs: plan.minSpacingMs,
    ...(now ? { now } : {}),
  });
}

/** Key of a provider's budget under a deployment's prefix, so two deployments on one Redis do not share. */
export function requestBudgetKey(prefix: string, provider: string): string {
  return `${prefix}:budget:${provider}`;
}
