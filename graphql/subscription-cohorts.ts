import { type ExecutionResult, GraphQLError, type GraphQLSchema, subscribe } from 'graphql';
import type { Logger } from 'pino';
import { describeDisconnect, isClientDisconnect } from '../src/client-disconnect.ts';
import { maskResult, type PreparedOperation } from './operation.ts';

/**
 * A subscriber gets this much unsent data queued (an SSE response's or a WebSocket's buffer) before it is
 * dropped as too slow to keep up; the same on both transports.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * One event of a cohort: the masked result serialised once. Each transport turns that JSON into its own
 * bytes through `encoded`, which also runs once per event, so a thousand SSE streams share one Buffer and a
 * thousand graphql-ws subscriptions share one encoding of the payload (each socket's message still copies
 * it once, behind its own id).
 */
export class CohortEvent {
  readonly #encodings = new Map<(json: string) => unknown, unknown>();

  constructor(
    /** `JSON.stringify` of the masked ExecutionResult. */
    readonly json: string,
  ) {}

  /** `encode(this.json)`, computed on first use and shared by every later caller with the same `encode`. */
  encoded<T>(encode: (json: string) => T): T {
    if (this.#encodings.has(encode)) return this.#encodings.get(encode) as T;
    const value = encode(this.json);
    this.#encodings.set(encode, value);
    return value;
  }
}

export type SubscriptionTransport = 'sse' | 'graphql-ws';

/** A member of a cohort: one SSE stream, or one subscription id on one WebSocket. */
export interface SubscriptionSink {
  /** Which transport, for the log and the counts. */
  readonly transport: SubscriptionTransport;
  next(event: CohortEvent): void;
  /** The source has ended (or failed, after an error event); nothing more comes. The sink is out. */
  complete(): void;
}

/** Membership in a cohort; `leave` stops delivery and, for the last member, ends the shared source. */
interface CohortMembership {
  leave(): void;
}

interface Cohort {
  key: string;
  members: Set<SubscriptionSink>;
  iterator: AsyncIterator<ExecutionResult>;
}

/**
 * Subscriptions executed once per cohort, whatever the transport. Every subscriber that sent the same
 * document, operation and variables joins one cohort: the subscription is executed once for it, each event
 * is serialised once, and every member gets those bytes (SSE and graphql-ws members alike; see
 * sse-subscriptions.ts and graphql-ws-server.ts). A stock server executes the selection set and serialises
 * the result once per subscriber per event, which is what limits how many viewers a core can hold.
 *
 * Correct for our schema because the Subscription fields do not read the request context; if one ever
 * does, the context's relevant part must join the cohort key.
 */
export function createSubscriptionCohorts(options: { schema: GraphQLSchema; logger: Logger }) {
  const { schema, logger } = options;
  const cohorts = new Map<string, Cohort>();
  let memberCount = 0;
  // Since start, for counters (a scrape between two opens must not miss one that closed in between).
  const opened: Record<SubscriptionTransport, number> = { sse: 0, 'graphql-ws': 0 };
  const closed: Record<SubscriptionTransport, number> = { sse: 0, 'graphql-ws': 0 };

  function event(result: ExecutionResult): CohortEvent {
    return new CohortEvent(JSON.stringify(maskResult(result, logger)));
  }

  /** Takes the sink out of the cohort (and out of the counts); false if it was not in it. */
  function remove(cohort: Cohort, sink: SubscriptionSink): boolean {
    if (!cohort.members.delete(sink)) return false;
    memberCount -= 1;
    closed[sink.transport] += 1;
    return true;
  }

  function deliver(sink: SubscriptionSink, call: () => void) {
    try {
      call();
    } catch (error) {
      // One broken member must not cost the others their event.
      if (isClientDisconnect(error)) {
        logger.debug({ ...describeDisconnect(error), transport: sink.transport }, 'a subscriber went away');
      } else {
        logger.warn({ err: error, transport: sink.transport }, 'a subscriber could not be written to');
      }
    }
  }

  async function pump(cohort: Cohort) {
    try {
      while (true) {
        const next = await cohort.iterator.next();
        if (next.done) break;
        const shared = event(next.value);
        for (const sink of cohort.members) deliver(sink, () => sink.next(shared));
      }
    } catch (error) {
      logger.error({ err: error }, 'subscription source failed');
      const failed = event({ errors: [new GraphQLError('Unexpected error.')] });
      for (const sink of cohort.members) deliver(sink, () => sink.next(failed));
    }
    if (cohorts.get(cohort.key) === cohort) cohorts.delete(cohort.key);
    for (const sink of [...cohort.members]) {
      remove(cohort, sink);
      deliver(sink, () => sink.complete());
    }
  }

  function leave(cohort: Cohort, sink: SubscriptionSink) {
    if (!remove(cohort, sink)) return;
    if (cohort.members.size > 0 || cohorts.get(cohort.key) !== cohort) return;
    cohorts.delete(cohort.key);
    // Ends the source subscription (and its Redis listener) once nobody is watching.
    void cohort.iterator.return?.();
  }

  return {
    /**
     * Adds `sink` to the cohort of this subscription operation, executing it if it is the first. A
     * refusal at subscribe time (e.g. a bad ticker) answers the masked result instead, which the transport
     * sends as its single event before completing; the sink is then not a member.
     */
    async join(
      operation: PreparedOperation,
      sink: SubscriptionSink,
    ): Promise<{ membership: CohortMembership } | { refused: ExecutionResult }> {
      const { document, operationName, variables } = operation;
      const key = `${operationName ?? ''}\u0000${operation.printed}\u0000${stableJson(variables)}`;
      let cohort = cohorts.get(key);
      if (!cohort) {
        const result = await subscribe({
          schema,
          document,
          operationName,
          variableValues: variables,
          contextValue: {},
        });
        if (!(Symbol.asyncIterator in result)) return { refused: maskResult(result, logger) };
        // Another subscriber of the same key may have formed the cohort while we awaited subscribe().
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
      joined.members.add(sink);
      memberCount += 1;
      opened[sink.transport] += 1;
      return { membership: { leave: () => leave(joined, sink) } };
    },

    /**
     * Members (SSE streams plus graphql-ws subscriptions) and distinct cohorts now open, and members
     * opened and closed since start by transport.
     */
    stats() {
      return {
        subscribers: memberCount,
        cohorts: cohorts.size,
        opened: { ...opened },
        closed: { ...closed },
      };
    },

    /** Completes every member, as a clean shutdown should, and stops the sources. */
    async closeAll() {
      const all = [...cohorts.values()];
      cohorts.clear();
      for (const cohort of all) {
        for (const sink of [...cohort.members]) {
          remove(cohort, sink);
          deliver(sink, () => sink.complete());
        }
      }
      await Promise.all(all.map((cohort) => cohort.iterator.return?.()));
    },
  };
}

export type SubscriptionCohorts = ReturnType<typeof createSubscriptionCohorts>;

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
