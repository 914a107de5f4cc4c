import { eq, sql } from 'drizzle-orm';
import { decodeImageDataUri, type LogoImage } from '../domain/image-data-uri.ts';
import type { CompanyProfile, FiftyTwoWeekRange } from '../domain/market-records.ts';
import type { Database } from './client.ts';
import { stockHighLow, stockImageUrls, symbols } from './schema.ts';

/** A watched ticker joined with its logo, 52-week range and latest stored price. */
export interface WatchlistEntry {
  ticker: string;
  companyName: string | null;
  /**
   * Where the page loads the logo: a path on this server, either the stored image (`/logos/{TICKER}`,
   * when a `data:` URI is stored) or the monogram; or whatever URL a provider stored before logos were
   * downloaded (the page shows the monogram for those).
   */
  logoUrl: string | null;
  high52Week: number | null;
  low52Week: number | null;
  latestPrice: number | null;
  latestTime: Date | null;
  enabled: boolean;
  addedAt: Date;
  /** Why the market-data provider refused the ticker (it does not know it), or null. */
  unknownReason: string | null;
  unknownSince: Date | null;
}

export interface WatchlistRepository {
  /**
   * Puts a ticker on the watchlist (again): inserted if new, re-enabled if it was removed. Its stored prices,
   * logo and range are kept across a remove and re-add.
   */
  add(ticker: string): Promise<void>;
  /** Takes a ticker off the watchlist (disables it; its history stays). Resolves false if it was not on it. */
  remove(ticker: string): Promise<boolean>;
  /** Adds tickers not yet on the watchlist, keeping the given order; existing entries are left alone. */
  seed(tickers: readonly string[]): Promise<void>;
  enabledTickers(): Promise<string[]>;
  list(): Promise<WatchlistEntry[]>;
  /** Enabled tickers without a company name or a logo that can be shown (a path or an inline image). */
  missingProfiles(): Promise<string[]>;
  /** Enabled tickers without a stored 52-week range. */
  missingRanges(): Promise<string[]>;
  /**
   * The logo image stored inline for a ticker, decoded and checked; undefined when none is stored, or the
   * stored value is a URL or a malformed `data:` URI (the caller serves the monogram then).
   */
  logoImage(ticker: string): Promise<LogoImage | undefined>;
  /** Upserts the logo URL and fills in the company name. */
  saveProfiles(profiles: readonly CompanyProfile[]): Promise<void>;
  saveRanges(ranges: readonly FiftyTwoWeekRange[]): Promise<void>;
  /**
   * Enabled tickers the price job should ask `provider` for: all but those that provider said it does
   * not know (a mark left by another provider does not count).
   */
  fetchableTickers(provider: string): Promise<string[]>;
  /** Marks tickers as unknown to `provider`, with the reason it gave. */
  markUnknown(provider: string, marks: readonly { symbol: string; reason: string }[]): Promise<void>;
  /** Clears the mark on tickers a provider has since answered for. */
  clearUnknown(tickers: readonly string[]): Promise<void>;
  /**
   * 52-week ranges derived from stored prices since `since`, for tickers whose provider has none; tickers
   * with no stored price in that time are left out.
   */
  rangesFromHistory(tickers: readonly string[], since: Date): Promise<FiftyTwoWeekRange[]>;
}

export function createWatchlistRepository(db: Database): WatchlistRepository {
  return {
    async add(ticker) {
      await db
        .insert(symbols)
        .values({ ticker })
        .onConflictDoUpdate({ target: symbols.ticker, set: { enabled: true } });
    },

    async remove(ticker) {
      const rows = await db
        .update(symbols)
        .set({ enabled: false })
        .where(eq(symbols.ticker, ticker))
        .returning({ ticker: symbols.ticker });
      return rows.length > 0;
    },

    async seed(tickers) {
      if (tickers.length === 0) return;
      // Microsecond steps on added_at keep SYMBOLS' order, which is the order the page lists them in.
      await db.execute(sql`
        insert into symbols (ticker, added_at)
        select ticker, now() + (n * interval '1 microsecond')
        from unnest(${sql.param([...tickers])}::text[]) with ordinality as t(ticker, n)
        on conflict (ticker) do nothing`);
    },

    async enabledTickers() {
      const rows = await db
        .select({ ticker: symbols.ticker })
        .from(symbols)
        .where(eq(symbols.enabled, true))
        .orderBy(symbols.addedAt, symbols.ticker);
      return rows.map((row) => row.ticker);
    },

    async list() {
      const result = await db.execute<{
        ticker: string;
        company_name: string | null;
        image_url: string | null;
        high_val52wk: string | null;
        low_val52wk: string | null;
        price: string | null;
        time: string | null;
        enabled: boolean;
        added_at: string;
        unknown_reason: string | null;
        unknown_at: string | null;
      }>(sql`
        select s.ticker, s.company_name, s.enabled, s.added_at, s.unknown_reason, s.unknown_at,
               -- An inline image is served at /logos/{TICKER}; the watchlist answer stays small.
               case when i.image_url like 'data:%' then '/logos/' || s.ticker else i.image_url end as image_url,
               h.high_val52wk, h.low_val52wk,
               p.price, p.time
        from symbols s
        left join stock_image_urls i on i.stock_name = s.ticker
        left join stock_highlow h on h.stock_name = s.ticker
        left join lateral (
          select price, time from stock_prices where stock_name = s.ticker order by time desc limit 1
        ) p on true
        order by s.added_at, s.ticker`);
      const num = (value: string | null) => (value === null ? null : Number(value));
      return result.rows.map((row) => ({
        ticker: row.ticker,
        companyName: row.company_name,
        logoUrl: row.image_url,
        high52Week: num(row.high_val52wk),
        low52Week: num(row.low_val52wk),
        latestPrice: num(row.price),
        // Drizzle hands raw SQL timestamps back as text.
        latestTime: row.time === null ? null : new Date(row.time),
        enabled: row.enabled,
        addedAt: new Date(row.added_at),
        unknownReason: row.unknown_reason,
        unknownSince: row.unknown_at === null ? null : new Date(row.unknown_at),
      }));
    },

    async logoImage(ticker) {
      const rows = await db
        .select({ imageUrl: stockImageUrls.imageUrl })
        .from(stockImageUrls)
        .where(eq(stockImageUrls.stockName, ticker));
      const stored = rows[0]?.imageUrl;
      return stored?.startsWith('data:') ? decodeImageDataUri(stored) : undefined;
    },

    async missingProfiles() {
      const result = await db.execute<{ ticker: string }>(sql`
        select s.ticker from symbols s
        where s.enabled and (s.company_name is null
          or not exists (select 1 from stock_image_urls i where i.stock_name = s.ticker)
          -- A logo stored as an outside URL (before logos were downloaded) cannot be shown: fetch it again.
          or exists (select 1 from stock_image_urls i
                     where i.stock_name = s.ticker and i.image_url ~* '^https?://'))
        order by s.added_at`);
      return result.rows.map((row) => row.ticker);
    },

    async missingRanges() {
      const result = await db.execute<{ ticker: string }>(sql`
        select s.ticker from symbols s
        where s.enabled and not exists (select 1 from stock_highlow h where h.stock_name = s.ticker)
        order by s.added_at`);
      return result.rows.map((row) => row.ticker);
    },

    async saveProfiles(profiles) {
      if (profiles.length === 0) return;
      await db.transaction(async (tx) => {
        await tx
          .insert(stockImageUrls)
          .values(profiles.map((p) => ({ stockName: p.symbol, imageUrl: p.logoUrl })))
          .onConflictDoUpdate({
            target: stockImageUrls.stockName,
            set: { imageUrl: sql`excluded.image_url`, updatedAt: sql`now()` },
          });
        await tx.execute(sql`
          update symbols s set company_name = u.name
          from unnest(${sql.param(profiles.map((p) => p.symbol))}::text[],
                      ${sql.param(profiles.map((p) => p.name))}::text[]) as u(ticker, name)
          where s.ticker = u.ticker and s.company_name is distinct from u.name`);
      });
    },

    async saveRanges(ranges) {
      if (ranges.length === 0) return;
      await db
        .insert(stockHighLow)
        .values(ranges.map((r) => ({ stockName: r.symbol, highVal52wk: r.high, lowVal52wk: r.low })))
        .onConflictDoUpdate({
          target: stockHighLow.stockName,
          set: {
            highVal52wk: sql`excluded.high_val52wk`,
            lowVal52wk: sql`excluded.low_val52wk`,
            updatedAt: sql`now()`,
          },
        });
    },

    async fetchableTickers(provider) {
      // One row holding an array: a 1,000-ticker watchlist is read in about half the time of 1,000 rows.
      const result = await db.execute<{ tickers: string[] | null }>(sql`
        select array_agg(ticker order by added_at, ticker) as tickers from symbols
        where enabled and unknown_provider is distinct from ${provider}`);
      return result.rows[0]?.tickers ?? [];
    },

    async markUnknown(provider, marks) {
      if (marks.length === 0) return;
      await db.execute(sql`
        update symbols s set unknown_reason = u.reason, unknown_provider = ${provider}, unknown_at = now()
        from unnest(${sql.param(marks.map((m) => m.symbol))}::text[],
                    ${sql.param(marks.map((m) => m.reason))}::text[]) as u(ticker, reason)
        where s.ticker = u.ticker`);
    },

    async clearUnknown(tickers) {
      if (tickers.length === 0) return;
      await db.execute(sql`
        update symbols set unknown_reason = null, unknown_provider = null, unknown_at = null
        where ticker = any(${sql.param([...tickers])}::text[]) and unknown_reason is not null`);
    },

    async rangesFromHistory(tickers, since) {
      if (tickers.length === 0) return [];
      const result = await db.execute<{ stock_name: string; high: string; low: string }>(sql`
        select stock_name, max(price) as high, min(price) as low
        from stock_prices
        where stock_name = any(${sql.param([...tickers])}::text[]) and time >= ${since.toISOString()}::timestamptz
        group by stock_name`);
      return result.rows.map((row) => ({
        symbol: row.stock_name,
        high: Number(row.high),
        low: Number(row.low),
      }));
    },
  };
}
