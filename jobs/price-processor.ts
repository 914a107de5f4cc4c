import { type Job, UnrecoverableError } from 'bullmq';
import type { TickRepository } from '../src/db/tick-repository.ts';
import type { Tick } from '../src/domain/tick.ts';
import type { FetchReport, FreshnessStore } from '../src/freshness-store.ts';
import type { Metrics } from '../src/metrics.ts';
import { ProviderError } from '../src/providers/provider.ts';
import { inUsMarketSession, tickersForSlot } from '../src/providers/request-plan.ts';
import { checkKeptQuotes } from '../src/providers/validate.ts';
import type { TickPublisher } from '../src/tick-channel.ts';
import { saveForRetry, writeOrHold } from './durable-write.ts';
import { logTransitions, markFaultLogged } from './freshness-log.ts';
import {
  callProvider,
  DEFAULT_RATE_LIMIT_WAIT_MS,
  describeFailures,
  faultOutcome,
  type ProviderJobDeps,
  reasonOf,
  slowDown,
  sortFailures,
  wasNotSent,
} from './provider-faults.ts';
import { scheduledSlot } from './queues.ts';

/** What a price job carries once it has fetched: the observation itself, so a retry writes the same one. */
export interface PriceJobData {
  quotes?: { ticker: string; price: number; time: string }[];
  /** Symbols a rate limit kept this job from fetching; its next run fetches only these. */
  pending?: string[];
  /** Totals of the runs before a rate limit, so the final result covers the whole job. */
  carried?: PriceJobResult;
}

export interface PriceJobResult {
  fetched: number;
  stored: number;
  failed: { symbol: string; error: string }[];
}

export interface PriceProcessorDeps extends ProviderJobDeps {
  /** Skip slots outside US sessions (MARKET_CALENDAR; config.market). */
  followsCalendar?: boolean;
  ticks: TickRepository;
  publishTicks: TickPublisher;
  freshness: FreshnessStore;
  metrics: Pick<Metrics, 'slotToStoredSeconds' | 'storedToPublishedSeconds' | 'ticksStored'>;
}

/**
 * Fetch once, write at least once. The quotes are saved into the job before anything is written, so a run
 * that dies after fetching is retried with the same quotes (not a fresh fetch), and the idempotent insert
 * makes a second write of them a no-op. Rows that were new are published, after the insert commits; a
 * rerun publishes all of its quotes, since the attempt that stored them may not have.
 *
 * Faults (see provider-faults.ts): one bad symbol is logged and reported, the others stored; an unknown
 * symbol is marked on the watchlist and no longer asked for; a rate limit part-way stores what came, then
 * pauses the queues and runs this job again for the rest, without spending an attempt. Only when nothing
 * at all came back does the job fail, so BullMQ retries it with backoff. A failing symbol is not retried
 * on its own: the next tick, seconds away, asks again.
 *
 * Every fetch's outcome is recorded per ticker and for the deployment (src/freshness-store.ts): a good
 * price once it is stored, a fault with the provider's reason at once. The log tells when a fault starts
 * and when it ends (jobs/freshness-log.ts), not on every job; an error this job throws after recording
 * its fault is marked so the worker's "job failed" line goes to debug.
 */
export function createPriceProcessor(deps: PriceProcessorDeps) {
  /**
   * A job's data is not only ours: Bull Board's "add job" and "edit data", or anyone who can write to
   * Redis, can put quotes and symbols in it. Both pass the checks a provider answer passes before anything
   * is fetched or stored (src/providers/validate.ts); what fails is logged, listed in the job's result and
   * its log, and dropped.
   */
  async function checkJobData(job: Job<PriceJobData>) {
    // The list a price job fetches (kept in Redis too, so a retry during a database outage still finds it).
    const watched = new Set(await deps.watchlist.fetchableTickers(deps.provider.name));
    const checked =
      job.data.quotes === undefined
        ? { ticks: undefined, refused: [] }
        : checkKeptQuotes(job.data.quotes, { now: deps.clock.now(), watched });
    const refused = [...checked.refused];
    let pending = job.data.pending;
    if (pending !== undefined) {
      const asked: unknown[] = Array.isArray(pending) ? pending : [pending];
      // A ticker the provider said it does not know is still watched: asked for again, it gets the
      // provider's own answer (the database is only asked when such a ticker is named).
      if (asked.some((symbol) => !watched.has(symbol as string))) {
        for (const ticker of await deps.watchlist.enabledTickers()) watched.add(ticker);
      }
      pending = asked.filter((symbol): symbol is string => typeof symbol === 'string' && watched.has(symbol));
      for (const symbol of asked.filter((s) => !pending!.includes(s as string))) {
        refused.push({ symbol: String(symbol).slice(0, 20), error: 'pending: not a watched ticker' });
      }
    }
    for (const { symbol, error } of refused) {
      deps.logger.warn({ jobId: job.id, symbol, error }, 'price job data refused');
      await job.log(`refused ${symbol}: ${error}`).catch(() => {});
    }
    return { ticks: checked.ticks, pending, refused };
  }

  return async (job: Job<PriceJobData>, token?: string, signal?: AbortSignal): Promise<PriceJobResult> => {
    let faultRecorded = false;
    const note = async (reports: FetchReport[]) => {
      if (reports.some((r) => r.outcome !== 'ok')) faultRecorded = true;
      await noteFetch(deps, reports);
    };
    const fromData =
      job.data.quotes !== undefined || job.data.pending !== undefined ? await checkJobData(job) : undefined;
    if (fromData && !fromData.ticks?.length && !fromData.pending?.length && fromData.refused.length > 0) {
      // Nothing usable: a retry would find the same data.
      throw new UnrecoverableError(
        `job data refused: ${fromData.refused.map((r) => `${r.symbol}: ${r.error}`).join('; ')}`,
      );
    }
    try {
      return await runPriceJob(deps, job, fromData, note, token, signal);
    } catch (error) {
      if (faultRecorded) markFaultLogged(error);
      throw error;
    }
  };
}

/** What a job's own data holds once checked (see checkJobData): kept quotes, pending symbols, refusals. */
interface CheckedJobData {
  ticks: Tick[] | undefined;
  pending: string[] | undefined;
  refused: PriceJobResult['failed'];
}

async function runPriceJob(
  deps: PriceProcessorDeps,
  job: Job<PriceJobData>,
  fromData: CheckedJobData | undefined,
  note: (reports: FetchReport[]) => Promise<void>,
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<PriceJobResult> {
  let quotes = fromData?.ticks?.map((t) => ({
    ticker: t.ticker,
    price: t.price,
    time: t.time.toISOString(),
  }));
  // Quotes in the job's data were fetched by an earlier attempt, which may have stored them and died
  // before publishing: this run then stores nothing new, but must still tell the subscribers.
  const rerun = quotes !== undefined;
  let pending = fromData?.pending;
  let waitMs = DEFAULT_RATE_LIMIT_WAIT_MS;
  const carried = job.data.carried ?? { fetched: 0, stored: 0, failed: [] };
  let failed: PriceJobResult['failed'] = fromData?.refused ?? [];
  let faults: FetchReport[] = [];
  if (!quotes) {
    const slot = scheduledSlot(job);
    const { plan } = deps;
    // A daily allowance is kept for the session, when prices move (request-plan.ts).
    // And no price is asked for while the exchanges are closed, unless MARKET_CALENDAR says otherwise.
    const closed = !inUsMarketSession(slot ?? deps.clock.now());
    if ((plan?.sessionOnly || deps.followsCalendar) && !pending && closed) return carried;
    const fetchable = pending ?? (await deps.watchlist.fetchableTickers(deps.provider.name));
    // Under a plan each slot sends one request, for the tickers whose turn it is.
    const symbols = plan && !pending ? tickersForSlot(plan, fetchable, slot) : fetchable;
    if (symbols.length === 0) return carried;
    const fetched = await callProvider(deps, job, symbols, async () => {
      try {
        // asOf: the job's slot, so a late run or a retry observes what an on-time run would have.
        return await deps.provider.getQuotes(symbols, {
          signal,
          budget: deps.budget,
          breaker: deps.breaker,
          asOf: slot,
          lane: 'price',
          // A burst rule's spacing is not a full window: within its slot, the request may wait for that.
          maxBudgetWaitMs: Math.min(1000, (plan?.minSpacingMs ?? 0) * 4),
        });
      } catch (error) {
        // The whole call failed: every ticker asked for shares the provider's reason. Nothing sent (no
        // room in the budget, an open circuit) is no answer: the last one stands.
        const outcome = error instanceof Error && wasNotSent(error) ? undefined : faultOutcome(error);
        if (outcome) await note(symbols.map((ticker) => ({ ticker, outcome, reason: reasonOf(error) })));
        throw error;
      }
    });
    // No room in the price share (a slot ran late, `providers check` took a turn) or the provider's circuit
    // is open: this slot's tickers wait for their next turn. Nothing was sent, so nothing is retried.
    const refused = fetched.failed.filter((f) => wasNotSent(f.error));
    if (refused.length > 0) {
      deps.logger.info(
        { symbols: refused.map((f) => f.symbol), reason: refused[0]!.error.message },
        'price slot skipped: no room in the budget, or the circuit is open',
      );
    }
    const result = { ok: fetched.ok, failed: fetched.failed.filter((f) => !wasNotSent(f.error)) };
    const sorted = sortFailures(result.failed);
    await deps.watchlist.markUnknown(deps.provider.name, sorted.unknown);
    const limited = new Set(sorted.limited?.symbols);
    const reported = result.failed.filter((f) => !limited.has(f.symbol));
    failed = [...failed, ...describeFailures(reported)];
    faults = result.failed.map((f) => ({
      ticker: f.symbol,
      outcome: faultOutcome(f.error) ?? 'provider_error',
      reason: reasonOf(f.error),
    }));
    quotes = result.ok.map((q) => ({ ticker: q.symbol, price: q.price, time: q.time.toISOString() }));
    pending = sorted.limited?.symbols;
    waitMs = sorted.limited?.waitMs ?? waitMs;
    if (quotes.length === 0 && !pending) {
      await note(faults);
      if (sorted.other.length > 0) {
        const first = sorted.other[0]!;
        throw new ProviderError(
          deps.provider.name,
          `no quotes: ${sorted.other.length} of ${symbols.length} symbols failed; ${first.symbol}: ${first.error.message}`,
        );
      }
      if (sorted.unknown.length === symbols.length) {
        throw new UnrecoverableError(sorted.unknown.map((u) => u.reason).join('; '));
      }
      faults = [];
    }
    await saveForRetry(job, { ...job.data, quotes, pending }, deps.logger);
  }
  const ticks: Tick[] = quotes.map((q) => ({ ticker: q.ticker, price: q.price, time: new Date(q.time) }));
  // A database outage fails the attempt (backoff) but never drops the quotes: see durable-write.ts. The
  // faults are recorded either way; the good prices only once they are stored.
  let stored: Tick[];
  try {
    stored = await writeOrHold(job, token, deps.logger, () => deps.ticks.insertTicks(ticks));
  } catch (error) {
    await note(faults);
    throw error;
  }
  const storedAt = deps.clock.now().getTime();
  const slot = scheduledSlot(job);
  // The pipeline's latency: only a slot that stored something new (an unchanged quote adds no tick).
  if (slot && stored.length > 0) deps.metrics.slotToStoredSeconds.observe((storedAt - slot.getTime()) / 1000);
  deps.metrics.ticksStored.inc(stored.length);
  // Delivery is at least once: a rerun publishes its whole batch, which a subscriber may have seen
  // already; (ticker, time) identifies a tick, and the page ignores one it has.
  const published = rerun ? ticks : stored;
  await deps.publishTicks(published);
  if (published.length > 0) {
    deps.metrics.storedToPublishedSeconds.observe((deps.clock.now().getTime() - storedAt) / 1000);
  }
  // After the publish, so the record's round trips never delay a tick on its way to the viewers.
  await note([...ticks.map((t) => ({ ticker: t.ticker, outcome: 'ok' as const })), ...faults]);
  const total: PriceJobResult = {
    fetched: carried.fetched + ticks.length,
    stored: carried.stored + stored.length,
    failed: [...carried.failed, ...failed],
  };
  if (pending && pending.length > 0) {
    // What came is stored; this job runs again after the window for the symbols it did not reach.
    await job.updateData({ pending, carried: total });
    await slowDown(deps, job, waitMs, `${pending.length} symbols not fetched yet`);
  }
  return total;
}

/** Records a fetch's outcomes and logs the changes. Never throws: freshness must not fail a price job. */
async function noteFetch(deps: PriceProcessorDeps, reports: FetchReport[]): Promise<void> {
  try {
    const transitions = await deps.freshness.record(reports, deps.clock.now());
    logTransitions(deps.logger, deps.provider.name, transitions);
  } catch (error) {
    deps.logger.debug({ err: error }, 'could not record price freshness');
  }
}
