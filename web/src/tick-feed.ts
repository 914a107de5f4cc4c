/**
 * The live tick stream: `subscription Ticks` over GraphQL-over-SSE (graphql-sse's "distinct connections"
 * mode, which GraphQL Yoga serves on the same /graphql endpoint), kept open for the life of the page.
 *
 * Reconnects forever. While a dropped stream is being retried the status is `reconnecting`, and `offline`
 * after a few failures in a row (the retries go on, only slower). Every time the stream is established
 * again, `onConnected(true)` fires so the page can fetch the ticks it missed while it was away — SSE has no
 * replay here, and the store merges the overlap idempotently.
 */
import { type Client, createClient } from 'graphql-sse';
import { TicksDocument, type TicksSubscription } from './generated/graphql.ts';
import { retryDelayMs, statusWhileRetrying } from './reconnect-policy.ts';
import type { ConnectionStatus, Tick } from './types.ts';

export interface TickFeedOptions {
  /** The GraphQL endpoint, same origin: `/graphql`. */
  url: string;
  /** One list per server fetch, as the server sent it. */
  onTicks(ticks: Tick[]): void;
  onStatus(status: ConnectionStatus): void;
  /** The stream is (again) open. `resumed` is false only for the page's first connection. */
  onConnected(resumed: boolean): void;
  /** Something worth a console line; the feed keeps going regardless. */
  onProblem?(problem: unknown): void;
}

export interface TickFeed {
  /** Cuts a pending retry wait short (the browser came back online, the tab became visible). */
  retryNow(): void;
  stop(): void;
}

export function startTickFeed(options: TickFeedOptions): TickFeed {
  const { onTicks, onStatus, onConnected } = options;
  const onProblem = options.onProblem ?? ((problem) => console.warn('stockstreamer: live feed:', problem));

  let status: ConnectionStatus | undefined;
  let everConnected = false;
  let stopped = false;
  /** Failed attempts since the last successful connection, across both retry layers below. */
  let failures = 0;
  let dispose: (() => void) | undefined;
  let wake: (() => void) | undefined;

  function setStatus(next: ConnectionStatus): void {
    if (next === status) return;
    status = next;
    onStatus(next);
  }

  /** A timer that `retryNow()` can end early. */
  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (wake === done) wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });
  }

  // Layer 1: graphql-sse retries network failures itself (a refused connection, an HTTP 5xx, a stream cut
  // mid-way). `retry` is its hook for the wait before each attempt, which is where we learn of the failure.
  const client: Client = createClient({
    url: options.url,
    retryAttempts: Number.POSITIVE_INFINITY,
    retry: async () => {
      setStatus(statusWhileRetrying(failures));
      await wait(retryDelayMs(failures));
      failures++;
    },
  });

  // Layer 2: anything graphql-sse does not retry (a malformed stream, the server completing the
  // subscription, e.g. on shutdown) ends the subscription; start a new one after the same backoff.
  async function resubscribeLater(): Promise<void> {
    if (stopped) return;
    setStatus(statusWhileRetrying(failures));
    await wait(retryDelayMs(failures));
    failures++;
    if (!stopped) subscribe();
  }

  function subscribe(): void {
    dispose = client.subscribe<TicksSubscription>(
      { operationName: 'Ticks', query: TicksDocument.toString() },
      {
        next(result) {
          if (result.errors?.length) onProblem(result.errors);
          const ticks = result.data?.ticks;
          if (!ticks?.length) return;
          // Data flowing is the best evidence of being live (e.g. after a spurious browser "offline" event).
          setStatus('live');
          onTicks(ticks);
        },
        error(error) {
          dispose = undefined;
          onProblem(error);
          void resubscribeLater();
        },
        complete() {
          dispose = undefined;
          void resubscribeLater();
        },
      },
      {
        connected() {
          failures = 0;
          setStatus('live');
          onConnected(everConnected);
          everConnected = true;
        },
      },
    );
  }

  setStatus('offline');
  subscribe();

  return {
    retryNow() {
      wake?.();
    },
    stop() {
      stopped = true;
      wake?.();
      dispose?.();
      client.dispose();
      setStatus('offline');
    },
  };
}
