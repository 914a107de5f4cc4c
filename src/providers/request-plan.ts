/**
 * The request planner: given a provider's plan (so many requests per window) and the watchlist, it decides
 * how the budget is spent before a single request goes out. Pure: no I/O, time comes in as numbers.
 *
 * - Prices first, always: they get PRICE_SHARE of every window, paced evenly (one request per scheduler
 *   slot, the slot as long as the share allows, never shorter than PRICE_INTERVAL_MS asks for). A plan of
 *   60/min is one request every 1.4 s, not 60 at once.
 * - Names, logos and 52-week ranges (the "extra" lane) get the rest of the window, spaced evenly too; they
 *   can never take what prices were promised (request-budget.ts keeps the two lanes' counts apart).
 * - A margin under the provider's window: a per-minute (or shorter) window is counted as 10 % longer, so a
 *   request that left 59.985 s after another still finds the provider's window moved on; a daily allowance
 *   is counted 10 % smaller instead, and spread over the US market session, when prices move.
 */

import { type Config, LIVE_PROVIDERS } from '../config.ts';
import { isMarketOpen } from '../domain/market-calendar.ts';

/** How a provider asks for prices: one request per ticker, one request whose cost is one credit per ticker,
 * or one request for the whole watchlist at the cost of one. */
export type PriceBatching = 'per-symbol' | 'credits' | 'one-request';

export interface BudgetWindow {
  /** Requests (or credits) the provider allows per window. */
  max: number;
  windowMs: number;
}

export interface PlanInput {
  provider: string;
  budget: BudgetWindow;
  /** As the user wrote it, for the summary line ("60/min"). */
  budgetText: string;
  batching: PriceBatching;
  tickers: number;
  /** PRICE_INTERVAL_MS: the price cadence wanted for each ticker; the plan may have to stretch it. */
  wantedPriceIntervalMs: number;
  /** A burst rule: at most this many requests a second (Finnhub 30, Alpha Vantage about 1). */
  perSecond?: number;
  /** Prices come from a trade stream: every slot stores every ticker, REST only while the stream is down. */
  streaming?: boolean;
}

export interface RequestPlan {
  provider: string;
  /** The window the shared budget counts in (the provider's, plus the margin). */
  windowMs: number;
  /** Requests per counted window the budget grants in all. */
  max: number;
  /** Of which prices may use this many … */
  priceMax: number;
  /** … and names, logos and ranges the rest. */
  extraMax: number;
  /** The least time between two extra requests, so they are spread over the window, not sent at once. */
  extraSpacingMs: number;
  /** The price scheduler's slot; each slot sends one price request. */
  priceSlotMs: number;
  /** Tickers one slot's request asks for (1 for per-symbol providers, the whole list for a batch). */
  tickersPerSlot: number;
  /** How often each ticker gets a price: the slot times the number of slots a round of the list takes. */
  priceEveryMs: number;
  /** The least time between any two requests: the provider's burst rule, when it has one. */
  minSpacingMs: number;
  /** Daily allowances are spent during the US market session only: prices do not move outside it. */
  sessionOnly: boolean;
  /** At start, one line saying what the plan buys. */
  summary: string;
}

/** Share of each window prices are planned to use; the rest is for names, logos and 52-week ranges. */
export const PRICE_SHARE = 0.8;
/** Headroom under the provider's own limit (see the module comment). */
export const MARGIN = 0.1;
/** A window at least this long is a daily allowance, spread over the market session. */
const DAILY_MS = 3_600_000;
/** 9:30 to 16:00 New York time. */
export const SESSION_MS = 6.5 * 3_600_000;
/** A scheduler slot shorter than this gains nothing and costs Redis round trips. */
const MIN_SLOT_MS = 250;

export function planRequests(input: PlanInput): RequestPlan {
  const { budget, tickers } = input;
  const n = Math.max(1, tickers);
  const daily = budget.windowMs >= DAILY_MS;
  // Minute windows are stretched; daily allowances shrunk (a stretched day would push tomorrow's session).
  const windowMs = daily ? budget.windowMs : Math.ceil(budget.windowMs * (1 + MARGIN));
  const max = daily ? Math.max(1, Math.floor(budget.max * (1 - MARGIN))) : budget.max;
  // The time the window's requests are spread over: a daily allowance over the session.
  const spreadMs = daily ? SESSION_MS : windowMs;
  let priceMax = Math.max(1, Math.floor(max * PRICE_SHARE));
  if (max >= 2 && priceMax === max) priceMax = max - 1;
  const extraMax = max - priceMax;

  // One request per slot. Its cost: 1 (per-symbol, one-request) or the tickers it carries (credits).
  // Streamed prices cost no request: every slot takes every ticker's latest trade.
  const tickersPerSlot = input.streaming
    ? n
    : input.batching === 'per-symbol'
      ? 1
      : input.batching === 'one-request'
        ? n
        : Math.min(n, priceMax);
  const costPerSlot = input.batching === 'credits' ? tickersPerSlot : 1;
  const slotsPerRound = Math.ceil(n / tickersPerSlot);
  // The shortest slot the price share allows, and the one PRICE_INTERVAL_MS asks for: the longer wins.
  const shareSlotMs = input.streaming ? 0 : (spreadMs * costPerSlot) / priceMax;
  const wantedSlotMs = input.wantedPriceIntervalMs / slotsPerRound;
  const priceSlotMs = Math.ceil(Math.max(shareSlotMs, wantedSlotMs, MIN_SLOT_MS));
  const priceEveryMs = priceSlotMs * slotsPerRound;
  const extraSpacingMs = extraMax > 0 ? Math.ceil(spreadMs / extraMax) : Number.POSITIVE_INFINITY;

  const summary =
    `${input.provider}, ${input.budgetText}${input.streaming ? ', streaming trades' : ''}: ${n} ticker${n === 1 ? '' : 's'}, a price each every ${duration(priceEveryMs)}` +
    (input.streaming ? ' from the stream (over REST, within the price share, while it is down)' : '') +
    (slotsPerRound > 1 ? ` (one request every ${duration(priceSlotMs)})` : '') +
    (daily ? ' during the US market session' : '') +
    `; names, logos and 52-week ranges from the ${extraMax} request${extraMax === 1 ? '' : 's'} left per ${duration(daily ? budget.windowMs : windowMs)}` +
    (extraMax > 0 ? `, one every ${duration(extraSpacingMs)} at most` : '');

  return {
    provider: input.provider,
    windowMs,
    max,
    priceMax,
    extraMax,
    extraSpacingMs,
    priceSlotMs,
    tickersPerSlot,
    priceEveryMs,
    // A tenth more than the burst rule's spacing, for the same reason as the window's margin.
    minSpacingMs: input.perSecond ? Math.ceil((1000 / input.perSecond) * (1 + MARGIN)) : 0,
    sessionOnly: daily,
    summary,
  };
}

/** The plan for a configured provider and watchlist; none without a budget (the simulation, `off`). */
export function planForConfig(
  config: Pick<Config, 'provider' | 'schedule'>,
  batching: PriceBatching,
  tickers: number,
): RequestPlan | undefined {
  const { budget } = config.provider;
  if (!budget) return undefined;
  const perSecond =
    config.provider.name === 'simulated' ? undefined : LIVE_PROVIDERS[config.provider.name].perSecond;
  return planRequests({
    provider: config.provider.name,
    budget,
    budgetText: budget.text,
    batching,
    tickers,
    wantedPriceIntervalMs: config.schedule.priceIntervalMs,
    ...(perSecond ? { perSecond } : {}),
    ...(config.provider.streamUrl ? { streaming: true } : {}),
  });
}

/**
 * The schedule the plan allows: prices at its slot, and names, logos and ranges no more often than the
 * extra share can serve a whole watchlist (three requests a ticker at most: a profile, its logo image, a
 * range), so a refresh never starts while the last one is still waiting for its turns.
 */
export function plannedSchedule(
  schedule: Config['schedule'],
  plan: RequestPlan | undefined,
  tickers: number,
): Config['schedule'] {
  if (!plan) return schedule;
  const refreshMs = Math.min(604_800_000, Math.ceil(tickers * 3 * plan.extraSpacingMs));
  return {
    priceIntervalMs: plan.priceSlotMs,
    logoIntervalMs: Math.max(schedule.logoIntervalMs, refreshMs),
    highlowIntervalMs: Math.max(schedule.highlowIntervalMs, refreshMs),
  };
}

/**
 * The tickers a price slot asks for: slots take turns through the list, so each ticker comes round every
 * `priceEveryMs`. Stateless, from the slot's own time, so any worker running any slot agrees. A job with no
 * slot (queued by hand) asks for the whole list.
 */
export function tickersForSlot(
  plan: Pick<RequestPlan, 'priceSlotMs' | 'tickersPerSlot'>,
  tickers: readonly string[],
  slot: Date | undefined,
): string[] {
  if (slot === undefined || tickers.length <= plan.tickersPerSlot) return [...tickers];
  const rounds = Math.ceil(tickers.length / plan.tickersPerSlot);
  const turn = Math.floor(slot.getTime() / plan.priceSlotMs) % rounds;
  return tickers.slice(turn * plan.tickersPerSlot, (turn + 1) * plan.tickersPerSlot);
}

/** `8.3 s`, `16 s`, `2.4 h`: what the start line and the page show. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'never';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1).replace(/\.0$/, '')} min`;
  return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')} h`;
}

/**
 * Whether `at` falls in a regular US session (src/domain/market-calendar.ts: weekdays 9:30–16:00 New York
 * time, less the exchanges' holidays and early closes).
 */
export function inUsMarketSession(at: Date): boolean {
  return isMarketOpen(at);
}
