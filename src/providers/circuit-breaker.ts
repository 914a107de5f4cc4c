import type { Redis } from 'ioredis';

/**
 * A circuit breaker per provider, kept in one Redis hash so every worker (and the API, which shows it)
 * agrees. During an outage the request rate must go down, not up: after THRESHOLD failures in a row
 * (5xx, unreachable, timed out) the circuit opens and no request is sent; after a cool-down one request is
 * let through as a probe (half-open); its success closes the circuit, its failure opens it again for twice
 * as long, up to MAX_COOL_DOWN_MS. Any answer that is not a server fault (a 404, a 429) proves the
 * provider is up and counts as a success.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerStatus {
  state: BreakerState;
  /** Failures in a row. */
  failures: number;
  /** When an open circuit lets its next probe through (epoch ms); undefined when closed. */
  retryAt: number | undefined;
}

export interface CircuitBreaker {
  /** 0 when a request may go (possibly as the probe), otherwise the milliseconds until the next probe. */
  admit(): Promise<number>;
  record(ok: boolean): Promise<void>;
  status(): Promise<BreakerStatus>;
}

export const BREAKER_THRESHOLD = 5;
export const FIRST_COOL_DOWN_MS = 5000;
export const MAX_COOL_DOWN_MS = 300_000;
/** How long a probe may take before another is let through (it timed out, its worker died). */
const PROBE_TIMEOUT_MS = 60_000;

/** Lua: `now` from the given argument, or Redis' own clock when it is negative. */
const nowFromArgument = (index: number) => `local now = tonumber(ARGV[${index}])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

const ADMIT_SCRIPT = `
local key = KEYS[1]
${nowFromArgument(1)}
local probeTimeout = tonumber(ARGV[2])
local state = redis.call('HGET', key, 'state') or 'closed'
if state == 'closed' then return 0 end
local retryAt = tonumber(redis.call('HGET', key, 'retryAt') or '0')
if now < retryAt then return retryAt - now end
-- this request is the probe; the next one waits for its answer (or for it to time out)
redis.call('HSET', key, 'state', 'half-open', 'retryAt', now + probeTimeout)
return 0
`;

const RECORD_SCRIPT = `
local key = KEYS[1]
local ok = ARGV[1] == '1'
${nowFromArgument(2)}
local threshold = tonumber(ARGV[3])
local first = tonumber(ARGV[4])
local most = tonumber(ARGV[5])
local state = redis.call('HGET', key, 'state') or 'closed'
if ok then
  redis.call('DEL', key)
  return 0
end
local failures = redis.call('HINCRBY', key, 'failures', 1)
if state == 'half-open' or (state == 'closed' and failures >= threshold) then
  local coolDown = tonumber(redis.call('HGET', key, 'coolDown') or '0')
  if state == 'half-open' then coolDown = math.min(most, math.max(first, coolDown * 2)) else coolDown = first end
  redis.call('HSET', key, 'state', 'open', 'coolDown', coolDown, 'retryAt', now + coolDown)
end
redis.call('PEXPIRE', key, most * 4)
return 0
`;

/** `now` (epoch ms) is for tests on a manual clock; by default Redis' own clock, as for the budget. */
export function createRedisCircuitBreaker(redis: Redis, key: string, now = () => -1): CircuitBreaker {
  return {
    async admit() {
      return Number(await redis.eval(ADMIT_SCRIPT, 1, key, now(), PROBE_TIMEOUT_MS));
    },
    async record(ok) {
      await redis.eval(
        RECORD_SCRIPT,
        1,
        key,
        ok ? '1' : '0',
        now(),
        BREAKER_THRESHOLD,
        FIRST_COOL_DOWN_MS,
        MAX_COOL_DOWN_MS,
      );
    },
    async status() {
      const fields = await redis.hgetall(key);
      const state = (fields.state as BreakerState | undefined) ?? 'closed';
      return {
        state,
        failures: Number(fields.failures ?? 0),
        retryAt: state === 'closed' ? undefined : Number(fields.retryAt),
      };
    },
  };
}

/** Key of a provider's breaker under a deployment's prefix. */
export function circuitBreakerKey(prefix: string, provider: string): string {
  return `${prefix}:breaker:${provider}`;
}
