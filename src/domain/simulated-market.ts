import { brownianAt, brownianPath, hashString, mix, uniform } from './random.ts';

/** What the simulation knows about a ticker: a display name and the parameters of its price process. */
export interface SimulatedCompany {
  ticker: string;
  name: string;
  /** Price in dollars at the anchor instant (2026-01-01T00:00Z). */
  anchorPrice: number;
  /** Annualised drift and volatility of the geometric Brownian motion. */
  drift: number;
  volatility: number;
}

/** Realistic levels for the classic's tickers and a few other well-known ones (late-2025 magnitudes). */
const KNOWN: Record<string, Omit<SimulatedCompany, 'ticker'>> = {
  GE: { name: 'GE Aerospace', anchorPrice: 300, drift: 0.08, volatility: 0.3 },
  AMZN: { name: 'Amazon.com, Inc.', anchorPrice: 230, drift: 0.1, volatility: 0.32 },
  NVDA: { name: 'NVIDIA Corporation', anchorPrice: 185, drift: 0.15, volatility: 0.5 },
  INTC: { name: 'Intel Corporation', anchorPrice: 38, drift: 0.02, volatility: 0.45 },
  AAPL: { name: 'Apple Inc.', anchorPrice: 270, drift: 0.08, volatility: 0.27 },
  NFLX: { name: 'Netflix, Inc.', anchorPrice: 95, drift: 0.1, volatility: 0.38 },
  MSFT: { name: 'Microsoft Corporation', anchorPrice: 480, drift: 0.09, volatility: 0.26 },
  GOOGL: { name: 'Alphabet Inc.', anchorPrice: 310, drift: 0.09, volatility: 0.3 },
  META: { name: 'Meta Platforms, Inc.', anchorPrice: 650, drift: 0.1, volatility: 0.4 },
  TSLA: { name: 'Tesla, Inc.', anchorPrice: 440, drift: 0.05, volatility: 0.6 },
  IBM: { name: 'International Business Machines', anchorPrice: 300, drift: 0.05, volatility: 0.25 },
};

const ANCHOR_MS = Date.UTC(2026, 0, 1);
/** The anchor sits mid-way along the Brownian path so that instants centuries either side are defined. */
const ANCHOR_T = 2 ** 37;
const SECONDS_PER_YEAR = 365.25 * 24 * 3600;

/** The simulation's parameters for any valid ticker: known ones are realistic, others derived from the name. */
export function simulatedCompany(ticker: string): SimulatedCompany {
  const known = KNOWN[ticker];
  if (known) return { ticker, ...known };
  const h = hashString(ticker);
  return {
    ticker,
    name: `${ticker} Holdings (simulated)`,
    anchorPrice: Math.round(10 + uniform(mix(h, 1)) * 490),
    drift: 0.02 + uniform(mix(h, 2)) * 0.1,
    volatility: 0.2 + uniform(mix(h, 3)) * 0.35,
  };
}

function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The price path of one ticker: a function from an instant to the simulated price, in dollars rounded to
 * cents, at the whole second containing it: S(t) = S0 · exp((μ − σ²/2)·τ + σ·(W(t) − W(anchor))) with τ in
 * years. A pure function of (seed, ticker, second): every process and every retry computes the same
 * observation for the same instant. W(anchor) is computed once per path.
 */
export function simulatedPricePath(seed: string, ticker: string): (at: Date) => number {
  const { anchorPrice, drift, volatility } = simulatedCompany(ticker);
  const pathSeed = hashString(`${seed}\u0000${ticker}`);
  const anchorW = brownianAt(pathSeed, ANCHOR_T);
  const w = brownianPath(pathSeed);
  return (at) => {
    const seconds = Math.floor((at.getTime() - ANCHOR_MS) / 1000);
    const years = seconds / SECONDS_PER_YEAR;
    // W is in units of sqrt(second); scale to sqrt(year) for the annualised volatility.
    const dw = (w(ANCHOR_T + seconds) - anchorW) / Math.sqrt(SECONDS_PER_YEAR);
    const price = anchorPrice * Math.exp((drift - (volatility * volatility) / 2) * years + volatility * dw);
    return Math.max(0.01, roundCents(price));
  };
}

/** The simulated price of `ticker` at `at`; see `simulatedPricePath`. */
export function simulatedPrice(seed: string, ticker: string, at: Date): number {
  return simulatedPricePath(seed, ticker)(at);
}

const HOUR_MS = 3_600_000;
const WEEKS_52_MS = 52 * 7 * 24 * HOUR_MS;
/** Sampling the year every 4 hours (2,184 points) keeps a 1,000-ticker watchlist's ranges to a few seconds. */
const SAMPLE_MS = 4 * HOUR_MS;

/**
 * The 52-week high and low as of `at`, from 4-hourly samples of the same price path plus the price at `at`
 * itself, so the current price always lies inside the range it is drawn against.
 */
export function simulatedFiftyTwoWeekRange(
  seed: string,
  ticker: string,
  at: Date,
): { high: number; low: number } {
  const priceAt = simulatedPricePath(seed, ticker);
  let high = priceAt(at);
  let low = high;
  const end = Math.floor(at.getTime() / SAMPLE_MS) * SAMPLE_MS;
  for (let ms = end; ms > at.getTime() - WEEKS_52_MS; ms -= SAMPLE_MS) {
    const price = priceAt(new Date(ms));
    if (price > high) high = price;
    if (price < low) low = price;
  }
  return { high, low };
}
