import type pg from 'pg';

/** One ticker's candles, columnar: `times[i]` (the candle's start, ms since the epoch) with `open[i]` … */
export interface CandleSeries {
  ticker: string;
  /** The candles' length in seconds. */
  intervalS: number;
  times: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  /** How many observed ticks each candle summarises. */
  ticks: number[];
}

export interface CandleWindow {
  tickers: readonly string[];
  from: Date;
  to: Date;
  /** The candle length as PostgreSQL reads an interval, e.g. '5 minutes'. */
  stride: string;
}

/**
 * OHLC candles from the minute rollup (kept for ever; raw ticks are kept RETAIN_TICKS_DAYS): the rollup
 * minutes starting in [from, to) grouped on `stride`'s grid from 2000-01-01 UTC, each candle opening at its
 * earliest minute's first price and closing at its latest minute's last. Columns ticker, start (timestamptz),
 * open, high, low, close, ticks; ordered by ticker and start. Values go in through `quote` because the CSV
 * export runs this inside COPY, which takes no bind parameters.
 */
export function candlesSelect(window: CandleWindow, quote: (value: string) => string): string {
  const tickers = window.tickers.map(quote).join(', ');
  const stride = `${quote(window.stride)}::interval`;
  const from = `${quote(window.from.toISOString())}::timestamptz`;
  const to = `${quote(window.to.toISOString())}::timestamptz`;
  const bin = `date_bin(${stride}, bucket, timestamptz '2000-01-01')`;
  return `SELECT stock_name AS ticker, ${bin} AS start,
      (array_agg(first_price ORDER BY first_time))[1] AS open,
      max(max_price) AS high,
      min(min_price) AS low,
      (array_agg(last_price ORDER BY last_time DESC))[1] AS close,
      sum(count) AS ticks
    FROM stock_prices_1m
    WHERE stock_name IN (${tickers})
      AND bucket >= date_bin(${stride}, ${from}, timestamptz '2000-01-01') AND bucket < ${to}
    GROUP BY stock_name, ${bin}
    ORDER BY stock_name, ${bin}`;
}

type CandleRow = {
  ticker: string;
  start_ms: string;
  open: string;
  high: string;
  low: string;
  close: string;
  ticks: string;
};

/** Reads candles (see {@link candlesSelect}); tickers without minutes in the window are left out. */
export async function readCandles(
  pool: pg.Pool,
  window: CandleWindow,
  intervalS: number,
): Promise<CandleSeries[]> {
  if (window.tickers.length === 0) return [];
  const client = await pool.connect();
  try {
    const select = candlesSelect(window, (value) => client.escapeLiteral(value));
    const { rows } = await client.query<CandleRow>(
      `SELECT ticker, (extract(epoch from start) * 1000)::bigint AS start_ms, open, high, low, close, ticks
       FROM (${select}) AS candles`,
    );
    const byTicker = new Map<string, CandleSeries>();
    for (const row of rows) {
      let series = byTicker.get(row.ticker);
      if (!series) {
        series = {
          ticker: row.ticker,
          intervalS,
          times: [],
          open: [],
          high: [],
          low: [],
          close: [],
          ticks: [],
        };
        byTicker.set(row.ticker, series);
      }
      series.times.push(Number(row.start_ms));
      series.open.push(Number(row.open));
      series.high.push(Number(row.high));
      series.low.push(Number(row.low));
      series.close.push(Number(row.close));
      series.ticks.push(Number(row.ticks));
    }
    return window.tickers.flatMap((ticker) => byTicker.get(ticker) ?? []);
  } finally {
    client.release();
  }
}
