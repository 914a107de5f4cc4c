import { sql } from 'drizzle-orm';
import { boolean, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The classic stockstreamer's three tables keep their names and columns, so its SQL still reads the data;
 * what changed is that each now has a key, which makes every write idempotent (a retried job cannot double
 * a row) and lets logos and ranges be upserted instead of deleted and re-inserted.
 */
export const stockPrices = pgTable(
  'stock_prices',
  {
    stockName: text('stock_name').notNull(),
    price: numeric('price', { mode: 'number' }).notNull(),
    time: timestamp('time', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.stockName, table.time] })],
);

export const stockImageUrls = pgTable('stock_image_urls', {
  stockName: text('stock_name').primaryKey(),
  imageUrl: text('image_url').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const stockHighLow = pgTable('stock_highlow', {
  stockName: text('stock_name').primaryKey(),
  highVal52wk: numeric('high_val52wk', { mode: 'number' }).notNull(),
  lowVal52wk: numeric('low_val52wk', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** The watchlist: which tickers the price job fetches and the page draws. Seeded from `SYMBOLS`. */
export const symbols = pgTable('symbols', {
  ticker: text('ticker').primaryKey(),
  companyName: text('company_name'),
  enabled: boolean('enabled').notNull().default(true),
  addedAt: timestamp('added_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
});
