-- The insert trigger (0002) keeps stock_prices_1m exact for inserts. Deletes (a retention job) and updates
-- (a price correction) cannot be merged in the same way: a removed row may have been a bucket's first, last,
-- lowest or highest. So the buckets they touch are rebuilt from the rows left, once per statement.
CREATE OR REPLACE FUNCTION stock_prices_1m_rebuild(names text[], buckets timestamptz[]) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM stock_prices_1m AS r
  USING unnest(names, buckets) AS t(stock_name, bucket)
  WHERE r.stock_name = t.stock_name AND r.bucket = t.bucket;
  INSERT INTO stock_prices_1m (stock_name, bucket, first_time, first_price, last_time, last_price,
                               min_time, min_price, max_time, max_price, count)
  SELECT p.stock_name, t.bucket,
         min(p.time), (array_agg(p.price ORDER BY p.time))[1],
         max(p.time), (array_agg(p.price ORDER BY p.time DESC))[1],
         (array_agg(p.time ORDER BY p.price, p.time))[1], min(p.price),
         (array_agg(p.time ORDER BY p.price DESC, p.time))[1], max(p.price),
         count(*)
  FROM unnest(names, buckets) AS t(stock_name, bucket)
  JOIN stock_prices AS p
    ON p.stock_name = t.stock_name AND p.time >= t.bucket AND p.time < t.bucket + interval '1 minute'
  GROUP BY p.stock_name, t.bucket;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION stock_prices_1m_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stock_prices_1m_rebuild(array_agg(stock_name), array_agg(bucket))
  FROM (SELECT DISTINCT stock_name, date_bin('1 minute', time, timestamptz '2000-01-01 00:00:00+00') AS bucket
        FROM old_rows) AS touched;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION stock_prices_1m_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A row may move to another ticker or minute: both its old and its new bucket change.
  PERFORM stock_prices_1m_rebuild(array_agg(stock_name), array_agg(bucket))
  FROM (SELECT stock_name, date_bin('1 minute', time, timestamptz '2000-01-01 00:00:00+00') AS bucket
        FROM old_rows
        UNION
        SELECT stock_name, date_bin('1 minute', time, timestamptz '2000-01-01 00:00:00+00')
        FROM new_rows) AS touched;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION stock_prices_1m_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE stock_prices_1m;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_after_delete
  AFTER DELETE ON stock_prices
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_after_delete();
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_after_update
  AFTER UPDATE ON stock_prices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_after_update();
--> statement-breakpoint
CREATE TRIGGER stock_prices_1m_after_truncate
  AFTER TRUNCATE ON stock_prices
  FOR EACH STATEMENT EXECUTE FUNCTION stock_prices_1m_after_truncate();
