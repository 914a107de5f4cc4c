import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';
import { SCHEDULER_IDS } from '../../../jobs/queues.ts';
import { simulatedPrice } from '../../../src/domain/simulated-market.ts';
import { sleep } from '../../helpers/servers.ts';

/**
 * Every iteration of the price scheduler seen in Redis, by its slot (BullMQ names each one
 * `repeat:<scheduler id>:<slot ms>`), and which of them had fetched quotes saved in their data. Polled,
 * so it outlives Redis restarts; a final `poll()` after the run sees every job still kept (the queue keeps
 * the last 500 finished ones, far more than a case makes).
 */
export function watchSlots(redis: string | RedisOptions, prefix: string, everyMs = 300) {
  const options: RedisOptions = {
    retryStrategy: () => 100,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectionName: 'faults:ledger',
  };
  // A URL, or the options of a Redis behind Sentinel (the ledger follows a failover like the app does).
  const client = typeof redis === 'string' ? new Redis(redis, options) : new Redis({ ...redis, ...options });
  client.on('error', () => {});
  const slots = new Set<number>();
  const fetched = new Set<number>();
  const pattern = `${prefix}:prices:repeat:${SCHEDULER_IDS.prices}:*`;
  const jobKey = new RegExp(`:repeat:${SCHEDULER_IDS.prices}:(\\d+)$`);

  const poll = async () => {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const match = jobKey.exec(key);
        if (!match) continue;
        const slot = Number(match[1]);
        slots.add(slot);
        if (fetched.has(slot)) continue;
        const data = await client.hget(key, 'data');
        if (data && Array.isArray((JSON.parse(data) as { quotes?: unknown }).quotes)) fetched.add(slot);
      }
    } while (cursor !== '0');
  };

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await poll().catch(() => {});
      await sleep(everyMs);
    }
  })();
  return {
    slots,
    fetched,
    poll,
    async stop() {
      stopped = true;
      await loop;
      client.disconnect();
    },
  };
}

/** `count(*)` of stock_prices every `everyMs`, through outages (failed samples are skipped). */
export function watchRows(databaseUrl: string, everyMs = 100) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 1000 });
  pool.on('error', () => {});
  const samples: { at: number; count: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const result = await pool.query<{ n: string }>('select count(*) as n from stock_prices');
        samples.push({ at: Date.now(), count: Number(result.rows[0]!.n) });
      } catch {
        // down; the next sample will tell
      }
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    /** Milliseconds from `t0` to the first sample after it that holds more rows than any sample before it. */
    firstNewRowAfter(t0: number): number | undefined {
      const before = samples.filter((s) => s.at < t0).reduce((max, s) => Math.max(max, s.count), 0);
      const first = samples.find((s) => s.at >= t0 && s.count > before);
      return first ? first.at - t0 : undefined;
    },
    async stop() {
      stopped = true;
      await loop;
      await pool.end();
    },
  };
}

/** The status of GET /healthz every `everyMs` (0 when it did not answer within a second). */
export function watchHealth(url: string, everyMs = 200) {
  const samples: { at: number; status: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      samples.push({ at, status });
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    /** Milliseconds from `t0` to the first sample taken after it with this status. */
    firstAfter(t0: number, status: number): number | undefined {
      const first = samples.find((s) => s.at >= t0 && s.status === status);
      return first ? first.at - t0 : undefined;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/**
 * A GraphQL-over-SSE subscription to ticks, recording when each event arrived and how the stream ended:
 * `complete` (the server ended it with its `complete` event), or an error (reset, cut).
 */
export function openTickStream(url: string) {
  const events: { at: number; ticks: number }[] = [];
  /** Every tick received, as `TICKER@epoch ms`. */
  const seen = new Set<string>();
  const controller = new AbortController();
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  let complete = false;
  const ended = (async () => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { ticks { ticker price time } }' }),
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      // Yoga subscribes to Redis as the stream starts; a moment lets that SUBSCRIBE land.
      setTimeout(resolveReady, 200);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event:\s*(\S+)/m.exec(block)?.[1];
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (event === 'complete') complete = true;
          else if (data) {
            const parsed = JSON.parse(data) as { data?: { ticks?: { ticker: string; time: string }[] } };
            const ticks = parsed.data?.ticks ?? [];
            for (const tick of ticks) seen.add(`${tick.ticker}@${Date.parse(tick.time)}`);
            events.push({ at: Date.now(), ticks: ticks.length });
          }
        }
      }
      return { at: Date.now(), complete, error: undefined as string | undefined };
    } catch (error) {
      resolveReady();
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { at: Date.now(), complete, error: text };
    }
  })();
  return {
    events,
    seen,
    ready,
    ended,
    /** Milliseconds from `t0` to the first event received after it. */
    firstEventAfter(t0: number): number | undefined {
      const first = events.find((e) => e.at >= t0);
      return first ? first.at - t0 : undefined;
    },
    close() {
      controller.abort();
    },
  };
}

/** The figures of one case, counted against what the deterministic provider produced for each slot. */
export interface Tally {
  /** Scheduler iterations (jobs) whose slot lies in the window. */
  slots: number;
  /** One tick per slot and watched ticker: what the simulated provider produces for that slot. */
  ticksExpected: number;
  ticksStored: number;
  /** Lost, strictly: a slot whose job had fetched its quotes, with a tick of it never stored. */
  lostFetched: number;
  /** Lost, broadly: a slot (a job existed for it) with any of its ticks never stored, fetched or not. */
  slotsWithoutTick: number;
  /**
   * Stored rows no slot asked for: what a doubled observation looks like under the (ticker, time) key
   * (a retry that fetched anew at another instant). Exact duplicates cannot exist; counted anyway.
   */
  duplicated: number;
  /** Stored ticks whose price is not the provider's price for that ticker and instant. */
  wrongPrice: number;
  /**
   * Interval steps between stored slots with no job at all: the scheduler makes one job at a time, so
   * while no worker can reach Redis (or Redis is down), the slots in between are skipped, not queued.
   */
  gapSlots: number;
}

/** Counts the stored rows against the slots seen in [from, to]. */
export async function tally(options: {
  databaseUrl: string;
  slots: ReadonlySet<number>;
  fetched: ReadonlySet<number>;
  from: number;
  to: number;
  intervalMs: number;
  seed: string;
  symbols: readonly string[];
}): Promise<Tally> {
  const { intervalMs, symbols } = options;
  // The simulated provider stamps each slot's quotes with the slot's own instant, ms included.
  const { from, to } = options;
  const slots = [...options.slots].filter((s) => s >= from && s <= to).sort((a, b) => a - b);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  let rows: { stock_name: string; ms: string; price: string; n: string }[];
  try {
    rows = (
      await client.query(
        `select stock_name, (extract(epoch from time) * 1000)::bigint as ms, price::text as price,
                count(*) over (partition by stock_name, time) as n
         from stock_prices where time >= $1 and time <= $2`,
        [new Date(from).toISOString(), new Date(to).toISOString()],
      )
    ).rows;
  } finally {
    await client.end();
  }
  const stored = new Map(rows.map((r) => [`${r.stock_name}@${r.ms}`, r]));
  const expected = new Set<string>();
  let ticksStored = 0;
  let wrongPrice = 0;
  let lostFetched = 0;
  let slotsWithoutTick = 0;
  for (const slot of slots) {
    let missing = 0;
    for (const symbol of symbols) {
      const key = `${symbol}@${slot}`;
      expected.add(key);
      const row = stored.get(key);
      if (!row) {
        missing++;
        continue;
      }
      ticksStored++;
      if (Number(row.price) !== simulatedPrice(options.seed, symbol, new Date(slot))) wrongPrice++;
    }
    if (missing > 0) {
      slotsWithoutTick++;
      if (options.fetched.has(slot)) lostFetched++;
    }
  }
  const duplicated =
    rows.filter((r) => !expected.has(`${r.stock_name}@${r.ms}`)).length +
    rows.filter((r) => Number(r.n) > 1).length;
  const times = [...new Set(rows.map((r) => Number(r.ms)))].sort((a, b) => a - b);
  let gapSlots = 0;
  for (let i = 1; i < times.length; i++) {
    gapSlots += Math.max(0, Math.round((times[i]! - times[i - 1]!) / intervalMs) - 1);
  }
  return {
    slots: slots.length,
    ticksExpected: slots.length * symbols.length,
    ticksStored,
    lostFetched,
    slotsWithoutTick,
    duplicated,
    wrongPrice,
    gapSlots,
  };
}
