import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { HistoryStore } from '../src/db/history-store.ts';
import { HISTORY_PIECE_MS, missingSpans, type Span } from '../src/domain/history-gaps.ts';
import { overlapsSession } from '../src/domain/market-calendar.ts';
import { type HistoryProgressStore, historyPieceId } from '../src/history-progress.ts';
import type { Metrics } from '../src/metrics.ts';
import {
  type HistoryAnswer,
  HistoryUnavailableError,
  ProviderAuthError,
  ProviderConfigError,
  ProviderRateLimitedError,
  UnknownSymbolError,
} from '../src/providers/provider.ts';
import type { TickPublisher } from '../src/tick-channel.ts';
import { type ProviderJobDeps, rateLimitWait, slowDown, waitForTurn, wasNotSent } from './provider-faults.ts';

/** Finds what the window lacks and queues one `fill` job per missing span. */
export const PLAN_JOB = 'plan';
/** Fetches one ticker's span from the provider's history and stores it. */
export const FILL_JOB = 'fill';
/** The gap repair's scheduler: a `plan` over the last day, every ten minutes. */
export const REPAIR_SCHEDULER_ID = 'history-repair';
export const REPAIR_EVERY_MS = 600_000;
export const REPAIR_WINDOW_DAYS = 1;

export interface PlanJobData {
  /** Only these tickers (a ticker just added); all enabled tickers when absent. */
  tickers?: string[];
  /** How far back to look, in days; BACKFILL_DAYS when absent (the repair looks at the last day only). */
  days?: number;
}

export interface FillJobData {
  ticker: string;
  startMs: number;
  endMs: number;
  stepMs: number;
}

export interface HistoryProcessorDeps extends ProviderJobDeps {
  history: HistoryStore;
  progress: HistoryProgressStore;
  /** The history queue itself: a plan queues its fills there. */
  queue: Pick<Queue, 'addBulk'>;
  backfillDays: number;
  /** The price interval the live job stores ticks at: a complete span holds one tick per step. */
  stepMs: number;
  metrics: Pick<Metrics, 'ticksBackfilled'>;
  /** Closed hours are not gaps when the market follows the calendar (MARKET_CALENDAR). */
  followsCalendar?: boolean;
  /** Tells the API processes which spans were filled (their first ticks), so cached chart columns go. */
  announceFilled: TickPublisher;
}

const DAY_MS = 86_400_000;

/** A fill job's id: one job per piece at a time, so a second plan while the first is filling adds nothing. */
export function fillJobId(data: Pick<FillJobData, 'ticker' | 'startMs' | 'endMs'>): string {
  return `fill|${historyPieceId(data.ticker, data.startMs, data.endMs)}`;
}

/**
 * The history queue's processor. A `plan` counts the stored ticks of the window per ticker and hour, and
 * queues a `fill` for every span with fewer ticks than price slots: on first start that is the whole window
 * (the backfill), for a ticker just added its whole window, and later the hours an outage left empty (the
 * gap repair). Fills are idempotent (keys skip what is stored), chunked (at most a day each) and resumable
 * (each is a job in Redis; after a crash the next plan finds what is still missing).
 */
export function createHistoryProcessor(deps: HistoryProcessorDeps) {
  async function plan(data: PlanJobData) {
    const unavailable = deps.provider.getHistory ? undefined : historyUnavailable(deps.provider);
    await deps.progress.setUnavailable(unavailable);
    if (unavailable) {
      deps.logger.warn({ provider: deps.provider.name }, unavailable);
      return { planned: 0, unavailable };
    }
    // The plan refused the history endpoint lately: nothing is asked until that is forgotten.
    const refused = await deps.progress.refusal();
    if (refused) return { planned: 0, unavailable: refused };
    const days = Math.min(data.days ?? deps.backfillDays, deps.backfillDays);
    const tickers = data.tickers ?? (await deps.watchlist.enabledTickers());
    const now = deps.clock.now().getTime();
    // The live job owns the current slot; a fill stops one step short of it.
    const window: Span = {
      startMs: now - days * DAY_MS,
      endMs: Math.floor(now / deps.stepMs) * deps.stepMs - deps.stepMs,
    };
    if (days <= 0 || tickers.length === 0 || window.endMs <= window.startMs) return { planned: 0 };
    // Bars come only for session minutes, and not for a minute without trades: a piece of a session is
    // missing when it holds no bar at all. Ticks are counted against the price slots.
    const bars = deps.provider.historyKind === 'bars';
    const stored = await deps.history.storedPerPiece(
      tickers,
      new Date(Math.floor(window.startMs / HISTORY_PIECE_MS) * HISTORY_PIECE_MS),
      new Date(window.endMs),
      HISTORY_PIECE_MS,
      bars ? 'bars' : 'ticks',
    );
    const isOpen =
      bars || deps.followsCalendar ? (piece: Span) => overlapsSession(piece.startMs, piece.endMs) : undefined;
    const isComplete = bars ? (count: number) => count > 0 : undefined;
    const fills: FillJobData[] = [];
    for (const ticker of tickers) {
      for (const span of missingSpans(window, stored.get(ticker) ?? new Map(), deps.stepMs, {
        isOpen,
        isComplete,
      })) {
        fills.push({ ticker, ...span, stepMs: deps.stepMs });
      }
    }
    const ids = fills.map((fill) => historyPieceId(fill.ticker, fill.startMs, fill.endMs));
    // A plan for named tickers joins the round under way; a plan for all of them starts a new round.
    if (data.tickers) await deps.progress.extend(ids);
    else await deps.progress.plan(ids);
    await deps.queue.addBulk(
      fills.map((fill) => ({
        name: FILL_JOB,
        data: fill,
        opts: { ...FILL_JOB_OPTIONS, jobId: fillJobId(fill) },
      })),
    );
    if (fills.length > 0)
      deps.logger.info({ tickers: tickers.length, spans: fills.length, days }, 'filling history');
    return { planned: fills.length };
  }

  async function fill(job: Job<FillJobData>, token: string | undefined) {
    const { ticker, startMs, endMs, stepMs } = job.data;
    const getHistory = deps.provider.getHistory;
    if (!getHistory) return { stored: 0 };
    // Fills queued before a refusal spend no request on an answer already known.
    const refused = await deps.progress.refusal();
    if (refused) {
      await deps.progress.finish(historyPieceId(ticker, startMs, endMs));
      return { stored: 0, unavailable: refused };
    }
    let answer: HistoryAnswer;
    try {
      // History draws on the budget's second share, after prices: it waits its turn like names and logos.
      answer = await getHistory.call(
        deps.provider,
        ticker,
        { from: new Date(startMs), to: new Date(endMs), stepMs },
        { budget: deps.budget, breaker: deps.breaker, lane: 'extra', maxBudgetWaitMs: 10_000 },
      );
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      // Our budget or an open circuit sent nothing: this fill waits, no attempt spent. A 429 pauses all.
      if (wasNotSent(error)) return waitForTurn(deps, job, token, rateLimitWait([error]), error.message);
      if (error instanceof ProviderRateLimitedError)
        return slowDown(deps, job, rateLimitWait([error]), error.message);
      if (error instanceof HistoryUnavailableError) {
        deps.logger.warn({ provider: deps.provider.name }, error.message);
        await deps.progress.refuse(error.message, error.forMs);
        await deps.progress.finish(historyPieceId(ticker, startMs, endMs));
        return { stored: 0, unavailable: error.message };
      }
      if (error instanceof ProviderAuthError || error instanceof ProviderConfigError) {
        throw new UnrecoverableError(error.message);
      }
      if (error instanceof UnknownSymbolError) {
        await deps.progress.finish(historyPieceId(ticker, startMs, endMs));
        return { stored: 0, unknown: error.message };
      }
      throw error;
    }
    let stored = 0;
    let via: string | undefined;
    if ('ticks' in answer) {
      const ticks = answer.ticks.map((quote) => ({
        ticker: quote.symbol,
        price: quote.price,
        time: quote.time,
      }));
      const result = await deps.history.storeTicks(ticks);
      stored = result.stored;
      via = result.via;
      if (stored > 0) await deps.announceFilled(ticks.slice(0, 1));
    } else {
      stored = await deps.history.storeBars(answer.bars, deps.provider.name);
      via = 'bars';
    }
    deps.metrics.ticksBackfilled.inc(stored);
    await deps.progress.finish(historyPieceId(ticker, startMs, endMs));
    return { stored, via };
  }

  return async (job: Job, token?: string) => {
    if (job.name === PLAN_JOB) return plan(job.data as PlanJobData);
    if (job.name === FILL_JOB) return fill(job as Job<FillJobData>, token);
    throw new Error(`history queue: no job named ${JSON.stringify(job.name)} (wanted plan or fill)`);
  };
}

/**
 * A fill retries like any provider job; once done it is removed, so the same span can be queued again by a
 * later repair. A fill that failed for good stays an hour for Bull Board, then the repair may try again.
 */
export const FILL_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: true,
  removeOnFail: { age: 3600 },
} as const;

function historyUnavailable(provider: { name: string; historyUnavailable?: string }): string {
  return (
    provider.historyUnavailable ??
    `${provider.name}: price history is not fetched from this provider yet: the chart starts at the first live price`
  );
}

/** The progress piece a fill job stands for, or undefined for any other job. */
export function historyPieceOfJob(job: Pick<Job, 'name' | 'data'>): string | undefined {
  if (job.name !== FILL_JOB) return undefined;
  const data = job.data as Partial<FillJobData>;
  return typeof data.ticker === 'string' && typeof data.startMs === 'number' && typeof data.endMs === 'number'
    ? historyPieceId(data.ticker, data.startMs, data.endMs)
    : undefined;
}

/** Queues a plan now: at start (deduplicated, so workers starting together plan once) or for added tickers. */
export async function queueHistoryPlan(
  queue: Pick<Queue, 'add'>,
  data: PlanJobData,
  dedupe?: string,
): Promise<void> {
  await queue.add(PLAN_JOB, data, dedupe ? { deduplication: { id: `history-plan-${dedupe}` } } : {});
}
