import type { Redis } from 'ioredis';
import { type FetchOutcome, type FreshnessRecord, nextRecord } from './domain/freshness.ts';

/**
 * Where the freshness records live: one Redis hash per deployment, a field per ticker and one for the
 * deployment as a whole. Redis, not Postgres: every worker writes it on every fetch and every API process
 * reads it on every status question, it is small and rebuilt by the next fetch when lost, and Redis is
 * already what all processes of a deployment share for the live state (queues, schedules, the tick
 * channel). A fetch costs one round trip more, not a row in the database.
 */
export function freshnessKey(prefix: string): string {
  return `${prefix}:freshness`;
}

/** The hash field of the deployment's own record; tickers are upper-case letters, so it cannot clash. */
const DEPLOYMENT_FIELD = '*';

export interface FetchReport {
  ticker: string;
  outcome: FetchOutcome;
  reason?: string | undefined;
}

/** A record whose outcome changed with this fetch: what the log tells, once per fault. */
export interface Transition {
  /** The ticker, or undefined for the deployment as a whole. */
  ticker: string | undefined;
  from: FetchOutcome | undefined;
  to: FetchOutcome;
  reason: string | undefined;
  /** How long the previous outcome had held, in ms (undefined when there was none). */
  heldMs: number | undefined;
}

export interface FreshnessSnapshot {
  deployment: FreshnessRecord | undefined;
  tickers: ReadonlyMap<string, FreshnessRecord>;
}

export interface FreshnessStore {
  /**
   * Records one fetch's outcome for each ticker it asked for, and for the deployment (ok when any ticker
   * got a good price, else the first fault). Returns the records whose outcome changed.
   */
  record(reports: readonly FetchReport[], at: Date): Promise<Transition[]>;
  read(): Promise<FreshnessSnapshot>;
}

/**
 * `connection` must be this store's own: a record is read and written under WATCH, which belongs to the
 * connection, so two workers (in this process or any other) that record at once cannot lose an outcome
 * change or both log it. Records of one process are also queued one after the other.
 */
export function createFreshnessStore(connection: Redis, prefix: string): FreshnessStore {
  const key = freshnessKey(prefix);
  let queue: Promise<unknown> = Promise.resolve();

  async function recordNow(reports: readonly FetchReport[], at: number): Promise<Transition[]> {
    const byField = new Map<string, { outcome: FetchOutcome; reason: string | undefined }>();
    for (const r of reports) byField.set(r.ticker, { outcome: r.outcome, reason: r.reason });
    const good = reports.find((r) => r.outcome === 'ok');
    const fault = reports.find((r) => r.outcome !== 'ok');
    byField.set(
      DEPLOYMENT_FIELD,
      good ? { outcome: 'ok', reason: undefined } : { outcome: fault!.outcome, reason: fault!.reason },
    );
    const fields = [...byField.keys()];
    for (let attempt = 0; ; attempt++) {
      await connection.watch(key);
      const previous = (await connection.hmget(key, ...fields)).map(parseRecord);
      const transitions: Transition[] = [];
      const next: Record<string, string> = {};
      fields.forEach((field, i) => {
        const before = previous[i];
        const fetch = byField.get(field)!;
        const after = nextRecord(before, { ...fetch, at });
        next[field] = JSON.stringify(after);
        if (before?.lastOutcome !== after.lastOutcome) {
          transitions.push({
            ticker: field === DEPLOYMENT_FIELD ? undefined : field,
            from: before?.lastOutcome,
            to: after.lastOutcome,
            reason: after.reason,
            heldMs: before ? at - before.outcomeSince : undefined,
          });
        }
      });
      if ((await connection.multi().hset(key, next).exec()) !== null) return transitions;
      // Another worker wrote in between: read again. Bounded, though contention is a handful of workers.
      if (attempt >= 20) throw new Error(`could not record price freshness: ${key} kept changing`);
    }
  }

  return {
    record(reports, at) {
      if (reports.length === 0) return Promise.resolve([]);
      const run = queue.then(() => recordNow(reports, at.getTime()));
      queue = run.catch(() => undefined);
      return run;
    },
    async read() {
      const all = await connection.hgetall(key);
      const tickers = new Map<string, FreshnessRecord>();
      let deployment: FreshnessRecord | undefined;
      for (const [field, text] of Object.entries(all)) {
        const record = parseRecord(text);
        if (!record) continue;
        if (field === DEPLOYMENT_FIELD) deployment = record;
        else tickers.set(field, record);
      }
      return { deployment, tickers };
    },
  };
}

function parseRecord(text: string | null | undefined): FreshnessRecord | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as FreshnessRecord;
    return typeof value.lastOutcome === 'string' && typeof value.lastAttemptAt === 'number'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
