import type { AlertFiring, AlertRule } from '../src/db/alert-repository.ts';
import { type AlertKind, describeFiring, parseAlertRule } from '../src/domain/alert-rule.ts';
import { badInput } from './arguments.ts';

/** The GraphQL enum's names for the domain's kinds. */
const KIND_NAMES: Record<AlertKind, string> = {
  above: 'ABOVE',
  below: 'BELOW',
  move: 'MOVE_PERCENT',
  high52: 'HIGH_52_WEEK',
  low52: 'LOW_52_WEEK',
  stale: 'STALE',
};
const KINDS_BY_NAME = new Map(Object.entries(KIND_NAMES).map(([kind, name]) => [name, kind as AlertKind]));

export interface AlertRuleArgs {
  ticker: string;
  kind: string;
  threshold?: number | null;
  windowMinutes?: number | null;
  cooldownSeconds?: number | null;
}

/** The input of createAlertRule, checked; a mistake is a BAD_USER_INPUT naming the field. */
export function parseAlertRuleArgs(input: AlertRuleArgs) {
  const kind = KINDS_BY_NAME.get(input.kind);
  if (!kind) throw badInput('kind', `wanted one of ${[...KINDS_BY_NAME.keys()].join(', ')}`);
  const parsed = parseAlertRule({ ...input, kind });
  if (!parsed.ok) throw badInput(parsed.field, parsed.error);
  return parsed.rule;
}

/** A rule id as GraphQL's ID carries it (a string): a positive whole number, or a clear error. */
export function parseRuleId(id: string | number): number {
  const value = Number(id);
  if (!Number.isSafeInteger(value) || value <= 0 || String(value) !== String(id)) {
    throw badInput(
      'id',
      `wanted the id of an alert rule (a positive whole number), got ${String(id).slice(0, 20)}`,
    );
  }
  return value;
}

export function presentRule(rule: AlertRule) {
  return {
    ...rule,
    kind: KIND_NAMES[rule.kind],
    windowMinutes: rule.windowS === null ? null : rule.windowS / 60,
    cooldownSeconds: rule.cooldownS,
  };
}

export function presentFiring(firing: AlertFiring) {
  return {
    ...firing,
    kind: KIND_NAMES[firing.kind],
    windowMinutes: firing.windowS === null ? null : firing.windowS / 60,
    message: describeFiring(firing),
  };
}

export const MAX_FIRINGS_PER_REQUEST = 1000;

/** A page size: `limit` of the log, `first` of the rules. */
export function parseFiringsLimit(limit: number | null | undefined, field = 'limit'): number {
  const value = limit ?? 200;
  if (!Number.isInteger(value) || value < 1 || value > MAX_FIRINGS_PER_REQUEST) {
    throw badInput(field, `wanted a whole number from 1 to ${MAX_FIRINGS_PER_REQUEST}, got ${value}`);
  }
  return value;
}
