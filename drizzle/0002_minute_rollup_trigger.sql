-- Keeps stock_prices_1m exact for every insert into stock_prices, whatever the path (workers, COPY, plain SQL).
-- Statement-level with a transition table: one set-based merge per statement, not one per row. With
-- ON CONFLICT DO NOTHING the transition table holds only rows actually inserted, so a retried write that
-- stores nothing changes nothing here either.
-- Buckets come from date_bin on a UTC origin, so they do not depend on the session's time zone.
CREATE OR REPLACE FUNCTION stock_prices_1m_merge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stock_prices_1m AS r (stock_name, bucket, first_time, first_price, last_time, last_price,
                                    min_time, min_price, max_time, max_price, count)
  SELECT stock_name,
         date_bin('1 minute', time, timestamptz '2000-01-01 00:00:00+00'),
         min(time), (array_agg(price ORDER BY time))[1],
         max(time), (array_agg(price ORDER BY time DESC))[1],
         (array_agg(time ORDER BY price, time))[1], min(price),
         (array_agg(time ORDER BY price DESC, time))[1], max(price),
         count(*)
  FROM new_rows
  GROUP BY 1, 2
  ON CONFLICT (stock_name, bucket) DO UPDATE SET
    first_time  = LEAST(r.first_time, excluded.first_time),
    first_price = CASE WHEN excluded.first_time < r.first_time THEN excluded.first_price ELSE r.first_price END,
    last_time   = GREATEST(r.last_time, excluded.last_time),
    last_price  = CASE WHEN excluded.last_time > r.last_time THEN excluded.last_price ELSE r.last_price END,
    min_time    = CASE WHEN excluded.min_price < r.min_price THEN excluded.min_time ELSE r.min_time END,
    min_price   = LEAST(r.min_price, excluded.min_price),
    max_time    = CASE WHEN excluded.max_price > r.max_price THEN excluded.max_time ELSE r.max_time END,
    max_price   = GREATEST(r.max_price, excluded.max_price),
    count       = r.count + excluded.count;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_after_insert
  AFTER INSERT ON stock_prices
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_merge();
--> statement-breakpoint
-- Ticks stored before this migration get their rollup now.
INSERT INTO stock_prices_1m (stock_name, bucket, first_time, first_price, last_time, last_price,
                             min_time, min_price, max_time, max_price, count)
SELECT stock_name,
       date_bin('1 minute', time, timestamptz '2000-01-01 00:00:00+00'),
       min(time), (array_agg(price ORDER BY time))[1],
       max(time), (array_agg(price ORDER BY time DESC))[1],
       (array_agg(time ORDER BY price, time))[1], min(price),
       (array_agg(time ORDER BY price DESC, time))[1], max(price),
       count(*)
FROM stock_prices
GROUP BY 1, 2;
