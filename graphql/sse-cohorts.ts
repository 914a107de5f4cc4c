import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  print,
  specifiedRules,
  subscribe,
  validate,
} from 'graphql';
import type { Logger } from 'pino';
import { LIMITS, maxAliasesRule, maxDepthRule } from './limits.ts';

/** What a GraphQL-over-HTTP request asks for, from a GET query string or a JSON body. */
export interface GraphqlParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

/** A client gets this much unsent data queued before it is dropped as too slow to keep up. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Proxies and browsers close streams that stay silent; a comment line every so often keeps them open. */
const KEEP_ALIVE_MS = 12_000;

const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const KEEP_ALIVE = Buffer.from(':\n\n');

interface Cohort {
  key: string;
  members: Set<ServerResponse>;
  iterator: AsyncIterator<ExecutionResult>;
}

/**
 * Subscriptions over SSE, grouped into cohorts. Every subscriber that sent the same document, operation and
 * variables joins one cohort: the subscription is executed once for the cohort, each event is serialised
 * once into one GraphQL-over-SSE frame ("distinct connections" mode: `event: next` / `event: complete`), and
 * the same bytes are written to every member. A stock server executes the selection set and serialises
 * the result once per subscriber per event, which is what limits how many viewers a core can hold.
 *
 * Correct for our schema because the Subscription fields do not read the request context; if one ever
 * does, the context's relevant part must join the cohort key.
 */
export function createSseCohorts(options: { schema: GraphQLSchema; logger: Logger }) {
  const { schema, logger } = options;
  const cohorts = new Map<string, Cohort>();
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
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();
    streams.add(res);
    res.once('close', () => streams.delete(res));
    ensureKeepAlive();
  }

  function frame(result: ExecutionResult): Buffer {
    return Buffer.from(`event: next\ndata: ${JSON.stringify(maskResult(result))}\n\n`);
  }

  /** Unexpected errors are masked as Yoga masks them; user errors (GraphQLError) pass through. */
  function maskResult(result: ExecutionResult): ExecutionResult {
    if (!result.errors?.length) return result;
    return {
      ...result,
      errors: result.errors.map((error) => {
        if (!error.originalError || error.originalError instanceof GraphQLError) return error;
        logger.error({ err: error.originalError }, 'subscription error');
        return new GraphQLError('Unexpected error.', {
          path: error.path,
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
      }),
    };
  }

  async function pump(cohort: Cohort) {
    try {
      while (true) {
        const next = await cohort.iterator.next();
        if (next.done) break;
        const bytes = frame(next.value);
        for (const res of cohort.members) write(res, bytes);
      }
    } catch (error) {
      logger.error({ err: error }, 'subscription source failed');
      const bytes = frame({ errors: [new GraphQLError('Unexpected error.')] });
      for (const res of cohort.members) write(res, bytes);
    }
    for (const res of cohort.members) {
      write(res, COMPLETE);
      res.end();
    }
    if (cohorts.get(cohort.key) === cohort) cohorts.delete(cohort.key);
  }

  function leave(cohort: Cohort, res: ServerResponse) {
    cohort.members.delete(res);
    if (cohort.members.size > 0 || cohorts.get(cohort.key) !== cohort) return;
    cohorts.delete(cohort.key);
    // Ends the source subscription (and its Redis listener) once nobody is watching.
    void cohort.iterator.return?.();
  }

  return {
    /**
     * Serves the request if it is a valid subscription and returns true; returns false (touching nothing)
     * for anything else, which the caller hands to Yoga so that queries and every error keep Yoga's answers.
     */
    async handle(req: IncomingMessage, res: ServerResponse, params: GraphqlParams): Promise<boolean> {
      if (typeof params.query !== 'string') return false;
      if (
        params.variables !== undefined &&
        params.variables !== null &&
        (typeof params.variables !== 'object' || Array.isArray(params.variables))
      ) {
        return false;
      }
      let document: DocumentNode;
      try {
        document = parse(params.query, { maxTokens: LIMITS.maxTokens });
      } catch {
        return false;
      }
      const operationName = typeof params.operationName === 'string' ? params.operationName : undefined;
      const operation = getOperationAST(document, operationName);
      if (operation?.operation !== 'subscription') return false;
      const rules = [...specifiedRules, maxDepthRule(LIMITS.maxDepth), maxAliasesRule(LIMITS.maxAliases)];
      if (validate(schema, document, rules).length > 0) return false;

      const variables = (params.variables ?? {}) as Record<string, unknown>;
      const key = `${operationName ?? ''}\u0000${print(document)}\u0000${stableJson(variables)}`;
      let cohort = cohorts.get(key);
      if (!cohort) {
        const result = await subscribe({
          schema,
          document,
          operationName,
          variableValues: variables,
          contextValue: {},
        });
        if (!(Symbol.asyncIterator in result)) {
          // A refusal at subscribe time (e.g. a bad ticker): one `next` with the errors, then `complete`.
          openStream(res);
          write(res, frame(result));
          write(res, COMPLETE);
          res.end();
          return true;
        }
        // Another request for the same key may have formed the cohort while we awaited subscribe().
        const existing = cohorts.get(key);
        if (existing) {
          void result.return?.();
          cohort = existing;
        } else {
          cohort = { key, members: new Set(), iterator: result[Symbol.asyncIterator]() };
          cohorts.set(key, cohort);
          void pump(cohort);
        }
      }
      const joined = cohort;
      openStream(res);
      joined.members.add(res);
      res.once('close', () => leave(joined, res));
      req.once('close', () => leave(joined, res));
      return true;
    },

    /** Subscribers and distinct cohorts now open; for metrics and tests. */
    stats() {
      return { subscribers: streams.size, cohorts: cohorts.size };
    },

    /** Ends every stream with `complete`, as a clean shutdown should, and stops the sources. */
    async closeAll() {
      for (const cohort of [...cohorts.values()]) {
        cohorts.delete(cohort.key);
        await cohort.iterator.return?.();
      }
      for (const res of streams) {
        write(res, COMPLETE);
        res.end();
      }
      streams.clear();
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = undefined;
    },
  };
}

export type SseCohorts = ReturnType<typeof createSseCohorts>;

/** JSON with object keys sorted, so {a,b} and {b,a} land in one cohort. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
