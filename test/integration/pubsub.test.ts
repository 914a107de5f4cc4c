import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTickPubSub } from '../../graphql/pubsub.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';

/**
 * The tick pub/sub on a real Redis, where the connection closes under the event target's own commands: the
 * UNSUBSCRIBE that the last stream's end sends while the process is stopping. Such a rejection must reach
 * our handler, never the process as an unhandled rejection (which Node turns into a crash).
 */
describe('tick pub/sub on a connection that closes', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const clients: Redis[] = [];
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('hands a failed UNSUBSCRIBE to its handler', async () => {
    process.on('unhandledRejection', onUnhandled);
    const publishClient = new Redis(TEST_REDIS_URL);
    const subscribeClient = new Redis(TEST_REDIS_URL);
    clients.push(publishClient, subscribeClient);
    const failures: unknown[] = [];
    const pubSub = createTickPubSub({
      publishClient,
      subscribeClient,
      onCommandError: (error) => failures.push(error),
    });
    const topic = `test-pubsub-${process.pid}-${Date.now()}`;
    const stream = pubSub.subscribe(topic);
    const first = stream.next();
    // Subscribed: a published message arrives.
    for (let i = 0; i < 50 && (await publishClient.pubsub('NUMSUB', topic))[1] !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await publishClient.publish(topic, JSON.stringify({ n: 1 }));
    expect((await first).value).toEqual({ n: 1 });

    subscribeClient.disconnect(); // the process stopping: the connection goes first
    await stream.return(undefined); // then the stream ends, and the event target sends UNSUBSCRIBE
    // The rejection surfaces one way or the other once the client has flushed its queue.
    for (let i = 0; i < 100 && failures.length + unhandled.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures.map(String)).toEqual([expect.stringMatching(/Connection is closed/)]);
    expect(unhandled).toEqual([]);
  });
});
