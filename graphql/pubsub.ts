import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, Repeater } from 'graphql-yoga';
import type { Redis } from 'ioredis';

/**
 * Ticks reach the API over Redis pub/sub, so an API process hears what any worker process stored. The
 * event target keeps one Redis subscription per channel for the whole process, however many clients listen.
 * The topic is the prefixed channel name that workers publish on (src/tick-channel.ts).
 *
 * When Redis restarts or fails over, ioredis reconnects the subscriber and subscribes to its channels again
 * by itself (`autoResubscribe`, on by default), so open streams carry on; ticks published while it was away
 * never reach it, so the API replays them from the database into this process's streams (`replay`).
 *
 * `close()` ends every open subscription: Yoga then sends each stream its `complete` event and ends the
 * response, so a client sees the stream finish rather than a reset connection when the server stops.
 */
export function createTickPubSub(options: {
  publishClient: Redis;
  subscribeClient: Redis;
  /** Told when a SUBSCRIBE, UNSUBSCRIBE or PUBLISH the event target sent failed (see `answered`). */
  onCommandError: (error: unknown) => void;
}) {
  const eventTarget = createRedisEventTarget({
    publishClient: answered(options.publishClient, options.onCommandError),
    subscribeClient: answered(options.subscribeClient, options.onCommandError),
  });
  const pubSub = createPubSub<Record<string, [unknown]>>({ eventTarget });
  const closing = new AbortController();
  const local = new EventTarget();
  return {
    publish: pubSub.publish,
    subscribe(topic: string): Repeater<unknown> {
      return Repeater.race([
        Repeater.merge([pubSub.subscribe(topic), localEvents(local, topic)]),
        untilAborted(closing.signal),
      ]);
    },
    /** Hands `payload` to this process's subscribers of `topic` only, as if it had come over Redis. */
    replay(topic: string, payload: unknown): void {
      local.dispatchEvent(new CustomEvent(topic, { detail: payload }));
    },
    close(): void {
      closing.abort();
    },
  };
}

export type TickPubSub = ReturnType<typeof createTickPubSub>;

/** Yields each payload replayed on `topic` in this process. */
function localEvents(target: EventTarget, topic: string): Repeater<unknown> {
  return new Repeater<unknown>(async (push, stop) => {
    const onEvent = (event: Event) => void push((event as CustomEvent).detail);
    target.addEventListener(topic, onEvent);
    await stop;
    target.removeEventListener(topic, onEvent);
  });
}

const FORGOTTEN_COMMANDS = new Set<PropertyKey>(['subscribe', 'unsubscribe', 'publish']);

/**
 * The Redis event target sends SUBSCRIBE, UNSUBSCRIBE and PUBLISH and never looks at the answer. A
 * connection that closes under one (the last stream ending as the process stops, or Redis going away)
 * rejects it, and an unheard rejection takes the process down (Node's default) or fails a test run. This
 * view of the client hands those rejections to `onError`; everything else is the client itself.
 */
function answered(client: Redis, onError: (error: unknown) => void): Redis {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!FORGOTTEN_COMMANDS.has(property)) return value.bind(target);
      return (...args: unknown[]) => {
        const sent = value.apply(target, args) as Promise<unknown>;
        sent.catch(onError);
        return sent;
      };
    },
  });
}

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
