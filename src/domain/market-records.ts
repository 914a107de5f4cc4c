/**
 * The records every layer shares: what a market-data provider answers (src/providers/), what storage keeps
 * (src/db/), what jobs and resolvers pass along. They live here, with no I/O, so that storage never imports
 * from the provider boundary.
 */

/** One price observation. `time` is the provider's own trade time where it has one. */
export interface Quote {
  symbol: string;
  price: number;
  time: Date;
}

export interface CompanyProfile {
  symbol: string;
  name: string;
  /**
   * The logo as stored: the image itself as a `data:` URI (live providers download it, see logo-image.ts;
   * the app serves it from its own origin at /logos/{TICKER}), or a path on this server (the monogram at
   * /logos/AAPL.svg, when the provider has no logo or it could not be used).
   */
  logoUrl: string;
}

export interface FiftyTwoWeekRange {
  symbol: string;
  high: number;
  low: number;
}

/**
 * One provider bar: what a history endpoint answers for a whole interval (a minute, usually), as opposed
 * to a {@link Quote}, which is one price observed at one instant. A bar is stored apart from observed
 * ticks (`stock_bars`), so a chart can tell a minute's open/high/low/close from what was watched live.
 */
export interface Bar {
  symbol: string;
  /** Start of the interval. */
  start: Date;
  /** Length of the interval in seconds (60 for a minute bar). */
  intervalS: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Shares traded in the interval, where the provider says. */
  volume?: number;
}
