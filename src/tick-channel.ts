import type { Redis } from 'ioredis';
import { serializeTicks, type Tick } from './domain/tick.ts';

/**
 * The Redis pub/sub channel that carries new ticks from any worker process to every API process. Prefixed
 * like the queues, so two deployments (or two test runs) on one Redis do not hear each other.
 */
export function ticksChannel(prefix: string): string {
  return `${prefix}:ticks`;
}

/**
 * Where the history jobs say which spans they filled (the first tick of each), so every API process drops
 * the cached columns those ticks fall into. Not the ticks channel: a backfilled hour is not news to a viewer.
 */
export function historyFilledChannel(prefix: string): string {
  return `${prefix}:history-filled`;
}

export type TickPublisher = (ticks: readonly Tick[]) => Promise<void>;

/** One publish per batch, not per symbol: subscribers get each fetch's ticks as one event. */
export function createTickPublisher(
  redis: Redis,
  prefix: string,
  channel = ticksChannel(prefix),
): TickPublisher {
  return async (ticks) => {
    if (ticks.length > 0) await redis.publish(channel, serializeTicks(ticks));
  };
}
