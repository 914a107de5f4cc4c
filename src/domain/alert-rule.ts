import { normalizeTicker } from './symbols.ts';
import { MAX_PRICE } from './tick.ts';

/**
 * What a price alert watches for, per ticker:
 * - `above` / `below`: the price is at or above (at or below) `threshold` dollars;
 * - `move`: the price moved by `threshold` percent (signed: +5 up, -5 down) against the price stored
 *   `windowS` seconds earlier (5 minutes to 1 day);
 * - `high52` / `low52`: the price is above the stored 52-week high (below the low);
 * - `stale`: no price has been stored for `windowS` seconds (5 minutes to 1 day), judged at each price slot.
 *
 * A rule fires once when its condition becomes true and re-arms when it is false again; after firing it
 * stays quiet for `cooldownS` seconds of tick time even when it re-arms and its condition comes back.
 */
export type AlertKind = 'above' | 'below' | 'move' | 'high52' | 'low52' | 'stale';
export const ALERT_KINDS: readonly AlertKind[] = ['above', 'below', 'move', 'high52', 'low52', 'stale'];

export interface AlertRuleSpec {
  ticker: string;
  kind: AlertKind;
  threshold: number | null;
  windowS: number | null;
  cooldownS: number;
}

export const MIN_MOVE_WINDOW_S = 5 * 60;
export const MAX_MOVE_WINDOW_S = 24 * 3600;
export const MAX_COOLDOWN_S = 7 * 24 * 3600;
/** A move larger than this in one window is not a signal anyone needs an alert for (and bounds the input). */
export const MAX_MOVE_PERCENT = 1000;
/** Rules per deployment: bounds what one price job's evaluation can cost (see test/bench/alerts.ts). */
export const MAX_ALERT_RULES = 10_000;

export type AlertRuleInput = {
  ticker: string;
  kind: AlertKind;
  threshold?: number | null;
  windowMinutes?: number | null;
  cooldownSeconds?: number | null;
};

export type Parsed = { ok: true; rule: AlertRuleSpec } | { ok: false; field: string; error: string };

/** Checks what an admin asked for; the error names the field and says what is wanted. */
export function parseAlertRule(input: AlertRuleInput): Parsed {
  const fail = (field: string, error: string): Parsed => ({ ok: false, field, error });
  const ticker = normalizeTicker(input.ticker);
  if (!ticker.ok) return fail('ticker', ticker.error);
  if (!ALERT_KINDS.includes(input.kind)) return fail('kind', `wanted one of ${ALERT_KINDS.join(', ')}`);
  const cooldownS = input.cooldownSeconds ?? 0;
  if (!Number.isInteger(cooldownS) || cooldownS < 0 || cooldownS > MAX_COOLDOWN_S) {
    return fail('cooldownSeconds', `wanted whole seconds from 0 to ${MAX_COOLDOWN_S}, got ${cooldownS}`);
  }
  const threshold = input.threshold ?? null;
  const windowMinutes = input.windowMinutes ?? null;
  const rule = { ticker: ticker.ticker, kind: input.kind, cooldownS };
  if (input.kind === 'above' || input.kind === 'below') {
    if (threshold === null || !Number.isFinite(threshold) || threshold <= 0 || threshold > MAX_PRICE) {
      return fail(
        'threshold',
        `wanted a price in dollars above 0 and at most ${MAX_PRICE}, got ${threshold}`,
      );
    }
    if (windowMinutes !== null) return fail('windowMinutes', `only a move rule has a window`);
    return { ok: true, rule: { ...rule, threshold, windowS: null } };
  }
  if (input.kind === 'stale') {
    if (threshold !== null) return fail('threshold', 'a stale rule takes no threshold, only windowMinutes');
    const windowS = windowMinutes === null ? Number.NaN : windowMinutes * 60;
    if (!Number.isInteger(windowS) || windowS < MIN_MOVE_WINDOW_S || windowS > MAX_MOVE_WINDOW_S) {
      return fail(
        'windowMinutes',
        `wanted whole minutes from ${MIN_MOVE_WINDOW_S / 60} to ${MAX_MOVE_WINDOW_S / 60}, got ${windowMinutes}`,
      );
    }
    return { ok: true, rule: { ...rule, threshold: null, windowS } };
  }
  if (input.kind === 'move') {
    if (
      threshold === null ||
      !Number.isFinite(threshold) ||
      threshold === 0 ||
      threshold <= -100 ||
      threshold > MAX_MOVE_PERCENT
    ) {
      return fail(
        'threshold',
        `wanted a signed percentage, above -100 and at most ${MAX_MOVE_PERCENT}, not 0 (e.g. 5 for up 5 %, -5 for down 5 %), got ${threshold}`,
      );
    }
    const windowS = windowMinutes === null ? Number.NaN : windowMinutes * 60;
    if (!Number.isInteger(windowS) || windowS < MIN_MOVE_WINDOW_S || windowS > MAX_MOVE_WINDOW_S) {
      return fail(
        'windowMinutes',
        `wanted whole minutes from ${MIN_MOVE_WINDOW_S / 60} to ${MAX_MOVE_WINDOW_S / 60}, got ${windowMinutes}`,
      );
    }
    return { ok: true, rule: { ...rule, threshold, windowS } };
  }
  if (threshold !== null) return fail('threshold', `a ${input.kind} rule takes no threshold`);
  if (windowMinutes !== null) return fail('windowMinutes', `only a move rule has a window`);
  return { ok: true, rule: { ...rule, threshold: null, windowS: null } };
}

/** One line a person reads in a notification, a webhook or the log: what happened, at what price. */
export function describeFiring(firing: {
  ticker: string;
  kind: string;
  threshold: number | null;
  windowS: number | null;
  price: number;
}): string {
  const price = `$${firing.price}`;
  switch (firing.kind) {
    case 'above':
      return `${firing.ticker} at ${price}, at or above $${firing.threshold}`;
    case 'below':
      return `${firing.ticker} at ${price}, at or below $${firing.threshold}`;
    case 'move':
      return `${firing.ticker} at ${price}, moved ${firing.threshold! > 0 ? '+' : ''}${firing.threshold} % within ${(firing.windowS ?? 0) / 60} min`;
    case 'high52':
      return `${firing.ticker} at ${price}, a new 52-week high`;
    case 'stale':
      return `${firing.ticker}: no new price for ${(firing.windowS ?? 0) / 60} min (last ${price})`;
    default:
      return `${firing.ticker} at ${price}, a new 52-week low`;
  }
}
