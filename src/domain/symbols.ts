/** The classic stockstreamer's six tickers, watched when `SYMBOLS` is not set. */
export const DEFAULT_SYMBOLS = Object.freeze(['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX']);

/**
 * A ticker as exchanges print it: an upper-case letter, then up to nine letters, digits, dots or dashes
 * (`BRK.B`, `RDS-A`). Strict on purpose: tickers end up in URLs, Redis keys and SQL parameters.
 */
export const TICKER_PATTERN = /^[A-Z][A-Z0-9.-]{0,9}$/;

/** Upper-cases and trims a user's ticker, or returns an error message that says what is wanted. */
export function normalizeTicker(raw: string): { ok: true; ticker: string } | { ok: false; error: string } {
  const ticker = raw.trim().toUpperCase();
  if (!TICKER_PATTERN.test(ticker)) {
    const shown = raw.length > 20 ? `${raw.slice(0, 17)}...` : raw;
    return {
      ok: false,
      error: `"${shown}" is not a ticker: wanted a letter then up to 9 letters, digits, "." or "-" (e.g. AAPL, BRK.B)`,
    };
  }
  return { ok: true, ticker };
}

/** At most this many tickers in one watchlist; a price job fetches them all in one batch. */
export const MAX_SYMBOLS = 2000;

/** Parses a comma-separated list such as `GE, amzn,NVDA` into unique, normalised tickers, order kept. */
export function parseSymbolList(raw: string): { ok: true; symbols: string[] } | { ok: false; error: string } {
  const parts = raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) return { ok: false, error: 'a comma-separated list of at least one ticker' };
  if (parts.length > MAX_SYMBOLS) return { ok: false, error: `at most ${MAX_SYMBOLS} tickers` };
  const symbols: string[] = [];
  for (const part of parts) {
    const result = normalizeTicker(part);
    if (!result.ok) return { ok: false, error: `a comma-separated list of tickers, but ${result.error}` };
    if (!symbols.includes(result.ticker)) symbols.push(result.ticker);
  }
  return { ok: true, symbols };
}
