const DAY_MS = 86_400_000;

/**
 * Where raw ticks begin when `retainDays` whole UTC days are kept before today's: the midnight (UTC)
 * that many days before today's. Undefined when they are kept for ever. Whole days, because a day's
 * partition is dropped whole: RETAIN_TICKS_DAYS=30 keeps between 30 and 31 days of ticks.
 */
export function retentionHorizon(now: Date, retainDays: number | 'forever'): Date | undefined {
  if (retainDays === 'forever') return undefined;
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(today - retainDays * DAY_MS);
}
