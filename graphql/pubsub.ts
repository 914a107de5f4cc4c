import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import type { Redis } from 'ioredis';

/**
 * Ticks reach the API over Redis pub/sub, so an API process hears what any worker process stored. The
 * event target keeps one Redis subscription per channel for the whole process, however many clients listen.
 * The topic is the prefixed channel name that workers publish on (src/tick-channel.ts).
 */
export function createTickPubSub(options: { publishClient: Redis; subscribeClient: Redis }) {
  return createPubSub<Record<string, [unknown]>>({ eventTarget: createRedisEventTarget(options) });
}

export type TickPubSub = ReturnType<typeof createTickPubSub>;
