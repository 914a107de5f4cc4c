import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, Repeater } from 'graphql-yoga';
import type { Redis } from 'ioredis';

/**
 * Ticks reach the API over Redis pub/sub, so an API process hears what any worker process stored. The
 * event target keeps one Redis subscription per channel for the whole process, however many clients listen.
 * The topic is the prefixed channel name that workers publish on (src/tick-channel.ts).
 *
 * When Redis restarts, ioredis reconnects the subscriber and subscribes to its channels again by itself
 * (`autoResubscribe`, on by default), so open streams carry on; ticks published while it was away are not
 * replayed (the chart reads history for that).
 *
 * `close()` ends every open subscription: Yoga then sends each stream its `complete` event and ends the
 * response, so a client sees the stream finish rather than a reset connection when the server stops.
 */
export function createTickPubSub(options: { publishClient: Redis; subscribeClient: Redis }) {
  const pubSub = createPubSub<Record<string, [unknown]>>({ eventTarget: createRedisEventTarget(options) });
  const closing = new AbortController();
  return {
    publish: pubSub.publish,
    subscribe(topic: string): Repeater<unknown> {
      return Repeater.race([pubSub.subscribe(topic), untilAborted(closing.signal)]);
    },
    close(): void {
      closing.abort();
    },
  };
}

export type TickPubSub = ReturnType<typeof createTickPubSub>;

/** Yields nothing and returns when `signal` aborts; its listener goes when the race it is in ends. */
function untilAborted(signal: AbortSignal): Repeater<never> {
  return new Repeater<never>(async (_push, stop) => {
    const onAbort = () => stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stop();
    await stop;
    signal.removeEventListener('abort', onAbort);
  });
}
