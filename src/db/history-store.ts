import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import { from as copyFrom } from 'pg-copy-streams';
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
  /**
   * Stored ticks per ticker and piece (`pieceMs` long, aligned to the epoch) over [from, to): the input of
   * `missingSpans`. Counted on the primary key's index.
   */
  storedPerPiece(
    tickers: readonly string[],
    from: Date,
    to: Date,
    pieceMs: number,
  ): Promise<Map<string, Map<number, number>>>;
}

const UNIQUE_VIOLATION = '23505';

export function createHistoryStore(
  { db, pool }: Pick<DatabaseHandle, 'db' | 'pool'>,
  ticks: Pick<TickRepository, 'insertTicks'>,
): HistoryStore {
  return {
    async storeTicks(batch) {
      if (batch.length === 0) return { stored: 0, via: 'copy' };
      const client = await pool.connect();
      try {
        const lines = batch.map((t) => `${t.ticker}\t${t.price}\t${t.time.toISOString()}\n`);
        await pipeline(
          Readable.from(lines),
          client.query(copyFrom('COPY stock_prices (stock_name, price, time) FROM STDIN')),
        );
        return { stored: batch.length, via: 'copy' };
      } catch (error) {
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      } finally {
        client.release();
      }
      return { stored: (await ticks.insertTicks(batch)).length, via: 'insert' };
    },

    async storedPerPiece(tickers, from, to, pieceMs) {
      const counts = new Map<string, Map<number, number>>();
      if (tickers.length === 0) return counts;
      const result = await db.execute<{ stock_name: string; piece: number; n: number }>(sql`
        select stock_name,
               (floor(extract(epoch from time) * 1000 / ${pieceMs}) * ${pieceMs})::float8 as piece,
               count(*)::int as n
        from stock_prices
        where stock_name = any(${sql.param([...tickers])}::text[])
          and time >= ${from.toISOString()}::timestamptz and time < ${to.toISOString()}::timestamptz
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
