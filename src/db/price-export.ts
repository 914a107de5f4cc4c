import type { Readable } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { EXPORT_INTERVAL_SQL, type PriceExport } from '../domain/price-export.ts';
import { candlesSelect } from './candles.ts';

/** Columns of each export, in order: the CSV header the route promises. */
export const EXPORT_COLUMNS = {
  tick: ['ticker', 'time', 'price'],
  bars: ['ticker', 'start', 'open', 'high', 'low', 'close', 'ticks'],
} as const;

const UTC_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * The export's statement. COPY takes no bind parameters, so every value goes in as a quoted literal:
 * tickers were checked against the ticker rule and instants are Dates, and both are still escaped.
 * Ticks come off the primary key (stock_name, time) in order, so PostgreSQL streams them without a sort:
 * the ORDER BY names the table's columns, as a bare `time` would mean the output's text column of that name
 * and sort the whole window on disk before the first byte;
 * bars are the chart's candles (src/db/candles.ts), from the minute rollup.
 */
export function exportStatement(request: PriceExport, quote: (value: string) => string): string {
  if (request.interval === 'tick') {
    const tickers = request.tickers.map(quote).join(', ');
    const from = quote(request.from.toISOString());
    const to = quote(request.to.toISOString());
    return `COPY (
      SELECT stock_name AS ticker, to_char(time AT TIME ZONE 'UTC', ${UTC_MS}) AS time, price
      FROM stock_prices
      WHERE stock_name IN (${tickers}) AND time >= ${from}::timestamptz AND time < ${to}::timestamptz
      ORDER BY stock_prices.stock_name, stock_prices.time
    ) TO STDOUT WITH (FORMAT csv, HEADER true)`;
  }
  const candles = candlesSelect(
    {
      tickers: request.tickers,
      from: request.from,
      to: request.to,
      stride: EXPORT_INTERVAL_SQL[request.interval],
    },
    quote,
  );
  return `COPY (
    SELECT ticker, to_char(start AT TIME ZONE 'UTC', ${UTC_MS}) AS start, open, high, low, close, ticks
    FROM (${candles}) AS candles
    ORDER BY ticker, candles.start
  ) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

/**
 * Streams an export as CSV bytes straight from PostgreSQL (`COPY … TO STDOUT`): the API holds one chunk
 * at a time, however long the window, and a slow reader slows the COPY instead of filling memory. The
 * connection goes back to the pool when the stream ends; one the reader abandons is not pooled again, as
 * its COPY may still be running.
 */
export async function streamPriceExport(pool: pg.Pool, request: PriceExport): Promise<Readable> {
  const client = await pool.connect();
  // Errors of a connection already being given up are reported here too; the stream carries the one
  // that counts.
  const ignore = () => {};
  client.on('error', ignore);
  let released = false;
  const release = (broken?: Error) => {
    if (released) return;
    released = true;
    client.release(broken);
  };
  try {
    const stream = client.query(copyTo(exportStatement(request, (value) => client.escapeLiteral(value))));
    stream.once('end', () => release());
    stream.once('error', (error) => release(error));
    stream.once('close', () => release(stream.readableEnded ? undefined : new Error('export abandoned')));
    return stream;
  } catch (error) {
    release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
