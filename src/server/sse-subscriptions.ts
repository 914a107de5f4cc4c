import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { type GraphqlParams, prepareOperation } from '../../graphql/operation.ts';
import {
  type CohortEvent,
  MAX_BUFFERED_BYTES,
  type SubscriptionCohorts,
  type SubscriptionSink,
} from '../../graphql/subscription-cohorts.ts';

/** Proxies and browsers close streams that stay silent; a comment line every so often keeps them open. */
const KEEP_ALIVE_MS = 12_000;

const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const KEEP_ALIVE = Buffer.from(':\n\n');

/** One GraphQL-over-SSE `next` frame; built once per cohort event and shared by every SSE member. */
const sseFrame = (json: string) => Buffer.from(`event: next\ndata: ${json}\n\n`);

/**
 * Subscriptions over SSE ("distinct connections" mode: `event: next` / `event: complete`), served from the
 * shared cohorts (subscription-cohorts.ts): every stream of one cohort is written the same Buffer.
 */
export function createSseSubscriptions(options: {
  schema: GraphQLSchema;
  cohorts: SubscriptionCohorts;
  logger: Logger;
}) {
  const { schema, cohorts, logger } = options;
  const streams = new Set<ServerResponse>();
  let keepAlive: NodeJS.Timeout | undefined;

  function write(res: ServerResponse, frame: Buffer) {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      logger.warn('dropping a subscriber that cannot keep up');
      res.destroy();
      return;
    }
    res.write(frame);
  }

  function end(res: ServerResponse) {
    write(res, COMPLETE);
    if (!res.writableEnded) res.end();
  }

  function ensureKeepAlive() {
    if (keepAlive || streams.size === 0) return;
    keepAlive = setInterval(() => {
      for (const res of streams) write(res, KEEP_ALIVE);
      if (streams.size === 0) {
        clearInterval(keepAlive);
        keepAlive = undefined;
      }
    }, KEEP_ALIVE_MS);
    keepAlive.unref();
  }

  function openStream(res: ServerResponse) {
    // The security headers (nosniff among them) are already set: sse-requests.ts sets them before handle().
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    streams.add(res);
    res.once('close', () => streams.delete(res));
    ensureKeepAlive();
  }

  return {
    /**
     * Serves the request if it is a valid subscription and returns true; returns false (touching nothing)
     * for anything else, which the caller hands to Yoga so that queries and every error keep Yoga's answers.
     */
    async handle(req: IncomingMessage, res: ServerResponse, params: GraphqlParams): Promise<boolean> {
      const prepared = prepareOperation(schema, params);
      if (!('operation' in prepared) || prepared.operation.kind !== 'subscription') return false;

      const sink: SubscriptionSink = {
        transport: 'sse',
        next: (event: CohortEvent) => write(res, event.encoded(sseFrame)),
        complete: () => end(res),
      };
      const joined = await cohorts.join(prepared.operation, sink);
      openStream(res);
      if ('refused' in joined) {
        // A refusal at subscribe time (e.g. a bad ticker): one `next` with the errors, then `complete`.
        write(res, sseFrame(JSON.stringify(joined.refused)));
        end(res);
        return true;
      }
      const { membership } = joined;
      res.once('close', membership.leave);
      req.once('close', membership.leave);
      // The client may have gone while subscribe() ran; 'close' has then already fired.
      if (req.socket.destroyed) membership.leave();
      return true;
    },

    /** Ends the streams the cohorts do not hold (closeAll of the cohorts completes the rest). */
    closeAll() {
      for (const res of streams) end(res);
      streams.clear();
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = undefined;
    },
  };
}
