import { type Bucket, takeToken } from '../domain/token-bucket.ts';

const MINUTE_MS = 60_000;
/** Buckets of clients idle this long are full again, so they can be forgotten. */
const FORGET_AFTER_MS = 2 * MINUTE_MS;

/** Gives back a slot taken from a cap; calling it more than once is harmless. */
export type Release = () => void;

/** At most `max` of something open at once per client; in memory, per API process. */
function createPerClientCap(max: number) {
  const open = new Map<string, number>();
  return {
    /** Takes one slot for `client`, or answers undefined when it has `max` open already. */
    reserve(client: string): Release | undefined {
      const count = open.get(client) ?? 0;
      if (count >= max) return undefined;
      open.set(client, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(client) ?? 1) - 1;
        if (left <= 0) open.delete(client);
        else open.set(client, left);
      };
    },
  };
}

/**
 * Per-client request rate (a token bucket per address), a cap on open subscriptions per address (SSE
 * streams and graphql-ws subscriptions together), and a cap on open WebSockets per address, for /graphql.
 * In memory, per API process: good enough to stop one client from starving the others on one box; a fleet
 * behind a load balancer would also limit at the proxy. One instance is shared by the HTTP routes and the
 * WebSocket upgrade, so a client cannot double its allowance by switching transport.
 */
export function createClientLimits(options: { perMinute: number; maxStreams: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  const streams = createPerClientCap(options.maxStreams);
  const sockets = createPerClientCap(options.maxStreams);
  let lastSweep = now();

  function sweep(at: number) {
    if (at - lastSweep < MINUTE_MS) return;
    lastSweep = at;
    for (const [client, bucket] of buckets)
      if (at - bucket.updatedMs > FORGET_AFTER_MS) buckets.delete(client);
  }

  /**
   * Spends one of the client's requests for this minute; when none is left, answers the refusal: the
   * Retry-After header value (whole seconds) and the message, the same on every transport.
   */
  function takeRequest(
    client: string,
  ): { allowed: true } | { allowed: false; retryAfter: string; message: string } {
    const at = now();
    sweep(at);
    const result = takeToken(buckets.get(client), at, options.perMinute, MINUTE_MS);
    buckets.set(client, result.bucket);
    if (result.allowed) return { allowed: true };
    return {
      allowed: false,
      retryAfter: String(Math.ceil(result.retryAfterMs / 1000)),
      message: tooManyRequests(options.perMinute),
    };
  }

  return {
    perMinute: options.perMinute,
    maxStreams: options.maxStreams,
    takeRequest,
    /** One open subscription (an SSE stream or a graphql-ws subscription). */
    reserveStream: (client: string) => streams.reserve(client),
    /** One open WebSocket, subscriptions or not. */
    reserveSocket: (client: string) => sockets.reserve(client),
  };
}

export type ClientLimits = ReturnType<typeof createClientLimits>;

export function tooManySubscriptions(max: number): string {
  return `too many open subscriptions: at most ${max} per client`;
}

function tooManyRequests(perMinute: number): string {
  return `too many requests: at most ${perMinute} per minute per client`;
}
