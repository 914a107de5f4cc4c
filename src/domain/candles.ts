/**
 * Candle intervals, and which one a window gets: the one asked for, or a coarser one where that would draw
 * more candles than the chart has pixels for (as `priceHistory` reduces to its width). Pure.
 */

export const CANDLE_INTERVALS = [
  { name: 'M1', seconds: 60, sql: '1 minute' },
  { name: 'M5', seconds: 300, sql: '5 minutes' },
  { name: 'M15', seconds: 900, sql: '15 minutes' },
  { name: 'H1', seconds: 3600, sql: '1 hour' },
  { name: 'D1', seconds: 86_400, sql: '1 day' },
] as const;

export type CandleInterval = (typeof CANDLE_INTERVALS)[number];
export type CandleIntervalName = CandleInterval['name'];

/**
 * The interval to answer with: `asked` (the finest when not given), made coarser until the window holds at
 * most `maxCandles` of them; the coarsest when none is coarse enough.
 */
export function candleInterval(
  asked: CandleIntervalName | undefined,
  spanMs: number,
  maxCandles: number,
): CandleInterval {
  const from = Math.max(
    0,
    CANDLE_INTERVALS.findIndex((i) => i.name === (asked ?? 'M1')),
  );
  for (const interval of CANDLE_INTERVALS.slice(from)) {
    if (spanMs / (interval.seconds * 1000) <= maxCandles) return interval;
  }
  return CANDLE_INTERVALS[CANDLE_INTERVALS.length - 1]!;
}
