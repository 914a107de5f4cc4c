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
  /** How many observed ticks each candle summarises: 0 for a candle made of provider bars alone. */
  ticks: number[];
  /**
   * Shares traded, summed from the provider bars in the candle; null where there are none, where one of
   * them gave no volume, or where they do not span the candle's observed minutes. Observed ticks carry
   * no volume (nor does the simulated market), so this is the only volume there is.
   */
  volume: (number | null)[];
}

export interface CandleWindow {
  tickers: readonly string[];
  from: Date;
  to: Date;
  /** The candle length as PostgreSQL reads an interval, e.g. '5 minutes'. */
  stride: string;
}

/**
 * The candles the chart draws: those of {@link candlesSelect}, joined on the same grid with the provider
 * bars (stock_bars) of the window. Where no tick was observed (a live provider's history from before the
 * install) a candle is made of bars alone (`ticks` 0), as they are OHLC already; a candle's volume is its
 * bars' summed volume (null unless every bar gave one and, for a candle of observed ticks, the bars span
 * its first to its last observed minute, so a candle never shows part of its volume as all of it). Same
 * columns as candlesSelect, plus `volume`.
 */
export function candlesWithBarsSelect(window: CandleWindow, quote: (value: string) => string): string {
  const tickers = window.tickers.map(quote).join(', ');
  const stride = `${quote(window.stride)}::interval`;
  const from = `${quote(window.from.toISOString())}::timestamptz`;
  const to = `${quote(window.to.toISOString())}::timestamptz`;
  const bin = `date_bin(${stride}, start, timestamptz '2000-01-01')`;
  return `WITH observed AS (${candlesSelect(window, quote)}), bars AS (
      SELECT stock_name AS ticker, ${bin} AS start,
        (array_agg(open ORDER BY start))[1] AS open,
        max(high) AS high,
        min(low) AS low,
        (array_agg(close ORDER BY start DESC))[1] AS close,
        CASE WHEN count(volume) = count(*) THEN sum(volume) END AS volume,
        min(start) AS first_start,
        max(start + interval_s * interval '1 second') AS last_end
      FROM stock_bars
      WHERE stock_name IN (${tickers})
        AND start >= date_bin(${stride}, ${from}, timestamptz '2000-01-01') AND start < ${to}
      GROUP BY stock_name, ${bin}
    )
    SELECT coalesce(o.ticker, b.ticker) AS ticker, coalesce(o.start, b.start) AS start,
      coalesce(o.open, b.open) AS open, coalesce(o.high, b.high) AS high,
      coalesce(o.low, b.low) AS low, coalesce(o.close, b.close) AS close,
      coalesce(o.ticks, 0) AS ticks,
      CASE WHEN o.ticker IS NULL OR (b.first_start <= o.first_minute AND b.last_end >= o.last_minute)
        THEN b.volume END AS volume
    FROM observed AS o FULL JOIN bars AS b ON b.ticker = o.ticker AND b.start = o.start`;
}

/**
 * OHLC candles from the minute rollup (kept for ever; raw ticks are kept RETAIN_TICKS_DAYS): the rollup
 * minutes starting in [from, to) grouped on `stride`'s grid from 2000-01-01 UTC, each candle opening at its
 * earliest minute's first price and closing at its latest minute's last. Columns ticker, start (timestamptz),
 * open, high, low, close, ticks, first_minute and last_minute (the observed minutes' span); ordered by
 * ticker and start. Values go in through `quote` because the CSV export runs this inside COPY, which takes
 * no bind parameters.
 *
 * Minutes that writes have logged but no fold has rebuilt yet (stock_prices_1m_pending: the last minute or
 * so, and any minute a late, corrected or deleted tick touched) are made from the ticks themselves, as the
 * history read does (tick-repository.ts, `minuteColumns`): otherwise the newest candle and a 1m export's
 * last ~70 s were missing, and a corrected minute showed its old prices until the fold.
 */
export function candlesSelect(window: CandleWindow, quote: (value: string) => string): string {
  const tickers = window.tickers.map(quote).join(', ');
  const stride = `${quote(window.stride)}::interval`;
  const from = `${quote(window.from.toISOString())}::timestamptz`;
  const to = `${quote(window.to.toISOString())}::timestamptz`;
  const bin = `date_bin(${stride}, bucket, timestamptz '2000-01-01')`;
  const first = `date_bin(${stride}, ${from}, timestamptz '2000-01-01')`;
  const minuteOf = (time: string) => `date_bin('1 minute', ${time}, timestamptz '2000-01-01')`;
  return `WITH stale AS (
      -- clamped to the raw horizon: before it the rollup is the only record, whatever the log says
      SELECT name AS stock_name,
             greatest(min(first_bucket), coalesce(min(horizon), '-infinity')) AS first_bucket,
             max(last_bucket) AS last_bucket
      FROM stock_prices_1m_pending, unnest(stock_names) AS name, stock_prices_retention
      WHERE name IN (${tickers}) AND last_bucket >= ${first} AND first_bucket < ${to}
      GROUP BY name
    ), minutes AS (
      SELECT r.stock_name, r.bucket, r.first_time, r.first_price, r.last_time, r.last_price, r.min_price,
             r.max_price, r.count
      FROM stock_prices_1m AS r
      LEFT JOIN stale AS s
        ON s.stock_name = r.stock_name AND r.bucket >= s.first_bucket AND r.bucket <= s.last_bucket
      WHERE r.stock_name IN (${tickers}) AND r.bucket >= ${first} AND r.bucket < ${to} AND s.stock_name IS NULL
      UNION ALL
      SELECT p.stock_name, ${minuteOf('p.time')},
             min(p.time), (array_agg(p.price ORDER BY p.time))[1],
             max(p.time), (array_agg(p.price ORDER BY p.time DESC))[1],
             min(p.price), max(p.price), count(*)
      FROM stale AS s
      JOIN stock_prices AS p
        ON p.stock_name = s.stock_name AND p.time >= s.first_bucket
           AND p.time < s.last_bucket + interval '1 minute'
      WHERE p.time >= ${first} AND p.time < ${to} + interval '1 minute' AND ${minuteOf('p.time')} < ${to}
      GROUP BY 1, 2
    )
    SELECT stock_name AS ticker, ${bin} AS start,
      (array_agg(first_price ORDER BY first_time))[1] AS open,
      max(max_price) AS high,
      min(min_price) AS low,
      (array_agg(last_price ORDER BY last_time DESC))[1] AS close,
      sum(count) AS ticks,
      min(bucket) AS first_minute,
      max(bucket) + interval '1 minute' AS last_minute
    FROM minutes
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
  volume: string | null;
};

/**
 * Reads candles with volume (see {@link candlesWithBarsSelect}); tickers with neither minutes nor bars in
 * the window are left out.
 */
export async function readCandles(
  pool: pg.Pool,
  window: CandleWindow,
  intervalS: number,
): Promise<CandleSeries[]> {
  if (window.tickers.length === 0) return [];
  const client = await pool.connect();
  try {
    const select = candlesWithBarsSelect(window, (value) => client.escapeLiteral(value));
    const { rows } = await client.query<CandleRow>(
      `SELECT ticker, (extract(epoch from start) * 1000)::bigint AS start_ms, open, high, low, close, ticks,
         volume
       FROM (${select}) AS candles
       ORDER BY ticker, start`,
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
          volume: [],
        };
        byTicker.set(row.ticker, series);
      }
      series.times.push(Number(row.start_ms));
      series.open.push(Number(row.open));
      series.high.push(Number(row.high));
      series.low.push(Number(row.low));
      series.close.push(Number(row.close));
      series.ticks.push(Number(row.ticks));
      series.volume.push(row.volume === null ? null : Number(row.volume));
    }
    return window.tickers.flatMap((ticker) => byTicker.get(ticker) ?? []);
  } finally {
    client.release();
  }
}
