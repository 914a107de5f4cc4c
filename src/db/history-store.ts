import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import { from as copyFrom } from 'pg-copy-streams';
import type { Bar } from '../domain/market-records.ts';
import type { Tick } from '../domain/tick.ts';
import type { DatabaseHandle } from './client.ts';
import type { TickRepository } from './tick-repository.ts';

export interface HistoryStore {
  /**
   * Stores a span of backfilled ticks. Idempotent like every write: a span nobody has written yet (a new
   * ticker, the first start) goes in by one COPY, the fastest load Postgres has; when the span already holds
   * some of these ticks (a repair, a live tick on the edge), that COPY fails on the key as a whole and the
   * ticks go in through the insert that skips stored keys. The rollup's statement triggers log both.
   */
  storeTicks(ticks: readonly Tick[]): Promise<{ stored: number; via: 'copy' | 'insert' }>;
  /** Stores provider bars (stock_bars), skipping any already stored. Returns how many were new. */
  storeBars(bars: readonly Bar[], provider: string): Promise<number>;
  /**
   * Stored ticks (or bars) per ticker and piece (`pieceMs` long, aligned to the epoch) over [from, to):
   * the input of `missingSpans`. Counted on the primary key's index.
   */
  storedPerPiece(
    tickers: readonly string[],
    from: Date,
    to: Date,
    pieceMs: number,
    kind?: 'ticks' | 'bars',
  ): Promise<Map<string, Map<number, number>>>;
  /** A ticker's stored bars over [from, to), ascending; at most MAX_BARS_PER_READ (the first ones). */
  bars(ticker: string, from: Date, to: Date): Promise<Bar[]>;
}

const UNIQUE_VIOLATION = '23505';
/** About 128 sessions of minute bars: a bound on one answer, however wide the window asked for. */
export const MAX_BARS_PER_READ = 50_000;

export function createHistoryStore(
  { db, pool }: Pick<DatabaseHandle, 'db' | 'pool'>,
  ticks: Pick<TickRepository, 'insertTicks' | 'makeRoom'>,
): HistoryStore {
  return {
    async storeTicks(given) {
      // COPY cannot skip a row, so the days it fills are made first, and ticks behind the horizon left out.
      const batch = await ticks.makeRoom(given);
      if (batch.length === 0) return { stored: 0, via: 'copy' };
      const client = await pool.connect();
      // A connection lost mid-COPY (PostgreSQL restarting) is reported more than once: on the client, and
      // on the COPY stream again after the pipeline has let go of it. Unheard, each is an uncaught
      // exception; the pipeline's rejection below is the one that counts.
      const lost = () => {};
      client.on('error', lost);
      let broken: Error | undefined;
      try {
        const copy = client.query(copyFrom('COPY stock_prices (stock_name, price, time) FROM STDIN'));
        copy.on('error', lost);
        await pipeline(Readable.from(copyLines(batch)), copy);
        return { stored: batch.length, via: 'copy' };
      } catch (error) {
        // A key conflict leaves the connection usable; anything else may not, so it is not pooled again.
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) {
          broken = error instanceof Error ? error : new Error(String(error));
          throw error;
        }
      } finally {
        // A broken client is ended, and its last words may come after this: it keeps its listener.
        if (!broken) client.off('error', lost);
        client.release(broken);
      }
      return { stored: (await ticks.insertTicks(batch)).length, via: 'insert' };
    },

    async storeBars(bars, provider) {
      if (bars.length === 0) return 0;
      const column = <T>(pick: (bar: Bar) => T) => sql.param(bars.map(pick));
      const result = await db.execute(sql`
        insert into stock_bars (stock_name, start, interval_s, open, high, low, close, volume, provider)
        select *, ${provider} from unnest(
          ${column((b) => b.symbol)}::text[],
          ${column((b) => b.start.toISOString())}::timestamptz[],
          ${column((b) => b.intervalS)}::int[],
          ${column((b) => String(b.open))}::numeric[],
          ${column((b) => String(b.high))}::numeric[],
          ${column((b) => String(b.low))}::numeric[],
          ${column((b) => String(b.close))}::numeric[],
          ${column((b) => (b.volume === undefined ? null : String(b.volume)))}::bigint[]
        )
        on conflict do nothing`);
      return result.rowCount ?? 0;
    },

    async bars(ticker, from, to) {
      const result = await db.execute<{
        start: string;
        interval_s: number;
        open: string;
        high: string;
        low: string;
        close: string;
        volume: string | null;
      }>(sql`
        select start, interval_s, open, high, low, close, volume from stock_bars
        where stock_name = ${ticker}
          and start >= ${from.toISOString()}::timestamptz and start < ${to.toISOString()}::timestamptz
        order by start
        limit ${MAX_BARS_PER_READ}`);
      return result.rows.map((row) => ({
        symbol: ticker,
        start: new Date(row.start),
        intervalS: Number(row.interval_s),
        open: Number(row.open),
        high: Number(row.high),
        low: Number(row.low),
        close: Number(row.close),
        ...(row.volume === null ? {} : { volume: Number(row.volume) }),
      }));
    },

    async storedPerPiece(tickers, from, to, pieceMs, kind = 'ticks') {
      const counts = new Map<string, Map<number, number>>();
      if (tickers.length === 0) return counts;
      const [table, time] = kind === 'ticks' ? [sql`stock_prices`, sql`time`] : [sql`stock_bars`, sql`start`];
      const result = await db.execute<{ stock_name: string; piece: number; n: number }>(sql`
        select stock_name,
               (floor(extract(epoch from ${time}) * 1000 / ${pieceMs}) * ${pieceMs})::float8 as piece,
               count(*)::int as n
        from ${table}
        where stock_name = any(${sql.param([...tickers])}::text[])
          and ${time} >= ${from.toISOString()}::timestamptz and ${time} < ${to.toISOString()}::timestamptz
        group by 1, 2`);
      for (const row of result.rows) {
        let pieces = counts.get(row.stock_name);
        if (!pieces) {
          pieces = new Map();
          counts.set(row.stock_name, pieces);
        }
        pieces.set(Number(row.piece), Number(row.n));
      }
      return counts;
    },
  };
}

/** Rows per chunk of COPY text: serialised as the stream asks, so no day of ticks is formatted in one go. */
const COPY_CHUNK_ROWS = 2000;

function* copyLines(batch: readonly Tick[]): Generator<string> {
  for (let i = 0; i < batch.length; i += COPY_CHUNK_ROWS) {
    let chunk = '';
    for (const t of batch.slice(i, i + COPY_CHUNK_ROWS))
      chunk += `${t.ticker}\t${t.price}\t${t.time.toISOString()}\n`;
    yield chunk;
  }
}
