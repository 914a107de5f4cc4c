import { isMarketOpen, previousSession, type Session } from './market-calendar.ts';

/**
 * What a "change since the previous close" means at a given instant:
 * - `since-close`: a session is under way (or the market trades around the clock): the latest price
 *   against the close of the last session that ended, "since Fri close";
 * - `session`: the exchanges are closed after a session: that session's change, its close (the latest
 *   price, as nothing trades until the next open) against the close before it, "Fri, vs Thu close". A
 *   weekend card then shows Friday's move rather than a flat 0 % against Friday's own close.
 */
export type CloseBasis = 'since-close' | 'session';

export interface CloseReference {
  basis: CloseBasis;
  /** The session whose close the change is measured from. */
  base: Session;
  /** With `session`: the session whose change it is (the last one that ended). */
  session?: Session;
}

/**
 * The close to measure a card's change from at `now`, from the US exchanges' calendar. A market that
 * trades around the clock (the simulated one, unless MARKET_CALENDAR=follow) has no closed hours of its
 * own; its change is measured from the exchanges' last close all the same, so that "since the previous
 * close" means the same instant for every provider. Undefined when the calendar finds no
 * session in the three weeks before.
 */
export function closeReference(now: Date, tradesAroundTheClock: boolean): CloseReference | undefined {
  const last = previousSession(now);
  if (!last) return undefined;
  if (tradesAroundTheClock || isMarketOpen(now)) return { basis: 'since-close', base: last };
  const before = previousSession(new Date(last.openMs));
  return before ? { basis: 'session', base: before, session: last } : undefined;
}
