import type Koa from 'koa';
import { type Bucket, takeToken } from '../domain/token-bucket.ts';

const MINUTE_MS = 60_000;
/** Buckets of clients idle this long are full again, so they can be forgotten. */
const FORGET_AFTER_MS = 2 * MINUTE_MS;

/**
 * Per-client request rate (a token bucket per address) and a cap on open subscription streams per
 * address, for /graphql. In memory, per API process: good enough to stop one client from starving the
 * others on one box; a fleet behind a load balancer would also limit at the proxy.
 */
export function createClientLimits(options: {
  perMinute: number;
  maxStreams: number;
  clientOf: (ctx: Koa.Context) => string;
  now?: () => number;
}): Koa.Middleware {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  const streams = new Map<string, number>();
  let lastSweep = now();

  function sweep(at: number) {
    if (at - lastSweep < MINUTE_MS) return;
    lastSweep = at;
    for (const [client, bucket] of buckets)
      if (at - bucket.updatedMs > FORGET_AFTER_MS) buckets.delete(client);
  }

  return async (ctx, next) => {
    const client = options.clientOf(ctx);
    const at = now();
    sweep(at);
    const result = takeToken(buckets.get(client), at, options.perMinute, MINUTE_MS);
    buckets.set(client, result.bucket);
    if (!result.allowed) {
      ctx.status = 429;
      ctx.set('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
      ctx.body = {
        errors: [{ message: `too many requests: at most ${options.perMinute} per minute per client` }],
      };
      return;
    }

    const isStream = (ctx.get('accept') ?? '').includes('text/event-stream');
    if (!isStream) return next();
    const open = streams.get(client) ?? 0;
    if (open >= options.maxStreams) {
      ctx.status = 429;
      ctx.body = {
        errors: [{ message: `too many open subscriptions: at most ${options.maxStreams} per client` }],
      };
      return;
    }
    streams.set(client, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (streams.get(client) ?? 1) - 1;
      if (left <= 0) streams.delete(client);
      else streams.set(client, left);
    };
    ctx.res.once('close', release);
    try {
      await next();
    } catch (error) {
      release();
      throw error;
    }
  };
}
