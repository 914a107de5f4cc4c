import type { Bar } from '../domain/market-records.ts';
import type { ProviderHttp } from './http.ts';
import { InvalidProviderResponseError } from './provider.ts';

/** One bar as a history endpoint answered it, its prices already checked as prices (validate.ts). */
export interface AnsweredBar {
  startMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume?: number | null;
}

/**
 * The bars of an answer that start inside [from, to), as records. A bar whose open or close lies outside
 * its own high and low is not a bar: the whole answer is refused, naming the endpoint and the bar.
 */
export function checkedBars(
  http: ProviderHttp,
  provider: string,
  endpoint: string,
  symbol: string,
  answered: readonly AnsweredBar[],
  span: { from: Date; to: Date },
  intervalS = 60,
): Bar[] {
  const bars: Bar[] = [];
  for (const { startMs, open, high, low, close, volume } of answered) {
    if (startMs < span.from.getTime() || startMs >= span.to.getTime()) continue;
    if (high < low || open > high || open < low || close > high || close < low) {
      throw new InvalidProviderResponseError(
        provider,
        `${endpoint} answered a bar for ${symbol} at ${new Date(startMs).toISOString()} outside its own high and low: ${http.excerpt(JSON.stringify({ open, high, low, close }))}`,
      );
    }
    bars.push({
      symbol,
      start: new Date(startMs),
      intervalS,
      open,
      high,
      low,
      close,
      ...(volume == null ? {} : { volume }),
    });
  }
  return bars;
}
