/** One stored price observation, the unit the pipeline moves from worker to page. */
export interface Tick {
  ticker: string;
  price: number;
  time: Date;
}

/**
 * The highest price the pipeline accepts. The minute rollup packs whole cents into 31 bits (src/db/schema.ts),
 * so from $21,474,836.48 up a batch's insert would fail for every ticker in it. No listed share comes near
 * (the dearest, BRK.A, trades under $1M): a larger figure is an upstream error, refused like a negative one.
 */
export const MAX_PRICE = 10_000_000;

/** The pub/sub wire form of a batch of ticks: compact JSON with ISO times. */
export function serializeTicks(ticks: readonly Tick[]): string {
  return JSON.stringify(ticks.map((t) => ({ ticker: t.ticker, price: t.price, time: t.time.toISOString() })));
}

/** Reads a batch published by `serializeTicks`, dropping anything malformed rather than passing it on. */
export function parseTicks(payload: unknown): Tick[] {
  if (!Array.isArray(payload)) return [];
  const ticks: Tick[] = [];
  for (const item of payload) {
    if (typeof item !== 'object' || item === null) continue;
    const { ticker, price, time } = item as Record<string, unknown>;
    const at = typeof time === 'string' ? new Date(time) : undefined;
    if (typeof ticker !== 'string' || typeof price !== 'number' || !Number.isFinite(price) || !at) continue;
    if (Number.isNaN(at.getTime())) continue;
    ticks.push({ ticker, price, time: at });
  }
  return ticks;
}
