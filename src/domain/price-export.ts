/**
 * What `/export/prices.csv` may be asked for, parsed from its query string. Pure, so the rules are tabled
 * in the spec; the same ticker and window rules as GraphQL's `priceHistory` (graphql/arguments.ts).
 */

/** `tick`: every stored observation; the others: OHLC bars built from the minute rollup. */
export const EXPORT_INTERVALS = ['tick', '1m', '5m', '15m', '1h', '1d'] as const;
export type ExportInterval = (typeof EXPORT_INTERVALS)[number];

/** The bar width of each interval, as PostgreSQL reads it (`date_bin`'s stride). */
export const EXPORT_INTERVAL_SQL: Record<Exclude<ExportInterval, 'tick'>, string> = {
  '1m': '1 minute',
  '5m': '5 minutes',
  '15m': '15 minutes',
  '1h': '1 hour',
  '1d': '1 day',
};

export interface PriceExport {
  tickers: string[];
  from: Date;
  to: Date;
  interval: ExportInterval;
}

/** The query parameters the route knows; any other is refused, so a typo is not silently ignored. */
const KNOWN = new Set(['tickers', 'from', 'to', 'interval']);

/**
 * Reads `tickers` (comma-separated, or repeated), `from` and `to` (ISO 8601 instants), and `interval`
 * (default `1m`). Ticker, window and instant checks are GraphQL's (`parseTickers`, `parseWindow`,
 * `parseInstant`), passed in so that GraphQL and the export refuse the same things with the same words.
 */
export function parseExportQuery(
  query: URLSearchParams,
  rules: {
    tickers: (raw: string[]) => string[];
    window: (from: Date | undefined, to: Date | undefined) => { from: Date; to: Date };
    instant: (raw: string) => Date;
  },
): { ok: true; request: PriceExport } | { ok: false; error: string } {
  try {
    for (const name of query.keys()) {
      if (!KNOWN.has(name)) throw new Error(`unknown parameter ${name}: wanted tickers, from, to, interval`);
    }
    const raw = query
      .getAll('tickers')
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter((value) => value !== '');
    if (raw.length === 0) throw new Error('tickers: wanted one or more tickers, e.g. tickers=AAPL,MSFT');
    const tickers = rules.tickers(raw);
    const interval = query.get('interval') ?? '1m';
    if (!(EXPORT_INTERVALS as readonly string[]).includes(interval)) {
      throw new Error(
        `interval: wanted one of ${EXPORT_INTERVALS.join(', ')}, got ${JSON.stringify(interval)}`,
      );
    }
    const instant = (name: 'from' | 'to') => {
      const value = query.get(name);
      if (value === null) return undefined;
      try {
        return rules.instant(value);
      } catch (error) {
        throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const window = rules.window(instant('from'), instant('to'));
    return { ok: true, request: { tickers, ...window, interval: interval as ExportInterval } };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The file name a browser saves the export under. */
export function exportFileName(request: PriceExport): string {
  const day = (date: Date) => date.toISOString().slice(0, 10);
  const who = request.tickers.length <= 3 ? request.tickers.join('-') : `${request.tickers.length}-tickers`;
  return `prices-${who}-${request.interval}-${day(request.from)}-${day(request.to)}.csv`;
}
