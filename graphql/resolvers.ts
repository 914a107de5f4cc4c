import { GraphQLError } from 'graphql';
import { filter, map, pipe, type Repeater } from 'graphql-yoga';
import { parsePublishedFirings } from '../src/alert-channel.ts';
import type { AlertFiring, AlertRepository } from '../src/db/alert-repository.ts';
import type { BarSeries } from '../src/db/bar-history.ts';
import type { CandleSeries, CandleWindow } from '../src/db/candles.ts';
import type { StoredClose } from '../src/db/close-prices.ts';
import type { PriceSeries } from '../src/db/tick-repository.ts';
import type { WatchlistEntry, WatchlistRepository } from '../src/db/watchlist-repository.ts';
import type { AdminDecision, AdminMode, Audit } from '../src/domain/admin.ts';
import { MAX_ALERT_RULES } from '../src/domain/alert-rule.ts';
import { type CandleIntervalName, candleInterval } from '../src/domain/candles.ts';
import { assessFreshness, type Freshness, staleAfterMs } from '../src/domain/freshness.ts';
import { isMarketOpen, nextSession, previousSession } from '../src/domain/market-calendar.ts';
import type { Bar } from '../src/domain/market-records.ts';
import { closeReference } from '../src/domain/previous-close.ts';
import { MAX_SYMBOLS } from '../src/domain/symbols.ts';
import { parseTicks, type Tick } from '../src/domain/tick.ts';
import type { FreshnessSnapshot } from '../src/freshness-store.ts';
import type { HistoryProgress } from '../src/history-progress.ts';
import type { ProviderStatus } from '../src/providers/provider-status.ts';
import {
  type AlertRuleArgs,
  MAX_FIRINGS_PER_REQUEST,
  parseAlertRuleArgs,
  parseFiringsLimit,
  parseRuleId,
  presentFiring,
  presentRule,
} from './alerts.ts';
import { badInput, parseTickers, parseWidth, parseWindow } from './arguments.ts';
import type { TickPubSub } from './pubsub.ts';
import { DateTimeScalar } from './scalars.ts';

export interface ResolverDeps {
  watchlist: WatchlistRepository;
  /** The chart's reduced history (src/db/history-cache.ts keeps the closed part of wide windows). */
  priceHistory(tickers: readonly string[], from: Date, to: Date, width: number): Promise<PriceSeries[]>;
  pubSub: TickPubSub;
  ticksTopic: string;
  now(): Date;
  adminMode: AdminMode;
  /** Asks the workers to fetch what a newly watched ticker lacks (logo, 52-week range, its history). */
  onWatchlistChanged(added?: string): Promise<void>;
  /** The freshness records of the deployment and its tickers (src/freshness-store.ts). */
  readFreshness(): Promise<FreshnessSnapshot>;
  providerName: string;
  /**
   * How often a good price is expected: the cadence the provider's plan allows (a free tier may stretch
   * PRICE_INTERVAL_MS), so that prices on plan are not called stale.
   */
  priceIntervalMs(): Promise<number>;
  /** The provider's plan and circuit, as the workers keep them in Redis. */
  providerStatus?(): Promise<ProviderStatus>;
  alerts: AlertRepository;
  /** The pub/sub topic the alert workers publish firings on (src/alert-channel.ts). */
  alertsTopic: string;
  /** A ticker's stored provider bars (src/db/history-store.ts). */
  priceBars?(ticker: string, from: Date, to: Date): Promise<Bar[]>;
  /** OHLC candles from the minute rollup (src/db/candles.ts), of `intervalS` seconds each. */
  candles?(window: CandleWindow, intervalS: number): Promise<CandleSeries[]>;
  /** Provider bars reduced to a chart's width, per ticker (src/db/bar-history.ts). */
  barHistory?(tickers: readonly string[], from: Date, to: Date, width: number): Promise<BarSeries[]>;
  /** Whether prices follow the US exchanges' sessions (MARKET_CALENDAR). */
  followsCalendar?: boolean;
  /** Whether prices move outside the exchanges' sessions (the simulated market, unless it follows them). */
  tradesAroundTheClock?: boolean;
  /** Each ticker's last stored price at or before `at` (src/db/close-prices.ts). */
  closes?(tickers: readonly string[], at: Date): Promise<Map<string, StoredClose>>;
  /** How far the backfill and gap repair have come, as the workers keep it in Redis. */
  historyProgress?(): Promise<HistoryProgress>;
}

/**
 * Per-request context set by the HTTP edge: whether this request carries admin rights, and the audit trail
 * of its client, which every admin action (a mutation, allowed or not) writes one line to.
 */
export interface RequestContext {
  admin?: AdminDecision;
  audit?: Audit;
}

/** Runs an admin mutation, writing its audit line: what was asked, on which ticker, and how it ended. */
async function audited<T>(
  context: RequestContext,
  action: string,
  target: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    requireAdmin(context);
    const result = await run();
    context.audit?.({ action, target, outcome: 'ok' });
    return result;
  } catch (error) {
    const refused = error instanceof GraphQLError && error.extensions.code !== undefined;
    context.audit?.({ action, target, outcome: refused ? 'refused' : 'failed' });
    throw error;
  }
}

function requireAdmin(context: RequestContext): void {
  const admin = context.admin;
  if (admin?.allowed) return;
  const reason = admin && !admin.allowed ? admin.reason : 'admin credentials are required';
  throw new GraphQLError(`not allowed: ${reason}`, { extensions: { code: 'FORBIDDEN' } });
}

export function createResolvers(deps: ResolverDeps) {
  // One read of the records and of the expected cadence per request, however many stocks ask.
  const snapshots = new WeakMap<object, Promise<FreshnessSnapshot & { intervalMs: number }>>();
  const snapshotFor = (context: object) => {
    let snapshot = snapshots.get(context);
    if (!snapshot) {
      snapshot = Promise.all([deps.readFreshness(), deps.priceIntervalMs()]).then(
        ([records, intervalMs]) => ({
          ...records,
          intervalMs,
        }),
      );
      snapshots.set(context, snapshot);
    }
    return snapshot;
  };
  // One read of the closes per request and close, not one per card: graphql-js resolves a list's fields in
  // one synchronous pass, so the read waits a microtask for every ticker of the pass to join. A ticker
  // asked after the read began (another root field, later) starts a batch of its own.
  interface CloseBatch {
    tickers: Set<string>;
    started: boolean;
    read: Promise<Map<string, StoredClose>>;
  }
  const closeBatches = new WeakMap<object, Map<number, CloseBatch>>();
  const closeOf = (context: object, ticker: string, at: number): Promise<StoredClose | undefined> => {
    const byClose = closeBatches.get(context) ?? new Map<number, CloseBatch>();
    closeBatches.set(context, byClose);
    let batch = byClose.get(at);
    if (!batch || batch.started) {
      const fresh: CloseBatch = { tickers: new Set(), started: false, read: Promise.resolve(new Map()) };
      fresh.read = Promise.resolve().then(() => {
        fresh.started = true;
        return deps.closes!([...fresh.tickers], new Date(at));
      });
      byClose.set(at, fresh);
      batch = fresh;
    }
    batch.tickers.add(ticker);
    return batch.read.then((closes) => closes.get(ticker));
  };
  const present = (freshness: Freshness) => ({
    ...freshness,
    state: freshness.state.toUpperCase(),
    lastOutcome: freshness.lastOutcome?.toUpperCase(),
  });
  return {
    DateTime: DateTimeScalar,
    Stock: {
      previousClose: async (stock: { ticker: string }, _: unknown, context: object) => {
        if (!deps.closes) throw new GraphQLError('previous closes are not available on this server');
        const reference = closeReference(deps.now(), deps.tradesAroundTheClock === true);
        if (!reference) return null;
        const close = await closeOf(context, stock.ticker, reference.base.closeMs);
        if (!close) return null;
        return {
          price: close.price,
          time: close.time,
          source: close.source === 'tick' ? 'OBSERVED' : 'BAR',
          sessionClose: new Date(reference.base.closeMs),
          basis: reference.basis === 'session' ? 'SESSION' : 'SINCE_CLOSE',
          changeOfSessionClose: reference.session ? new Date(reference.session.closeMs) : null,
        };
      },
      freshness: async (stock: { ticker: string }, _: unknown, context: object) => {
        const { tickers, intervalMs } = await snapshotFor(context);
        return present(
          assessFreshness(tickers.get(stock.ticker), deps.now().getTime(), staleAfterMs(intervalMs)),
        );
      },
    },
    Query: {
      status: async (_: unknown, __: unknown, context: object) => {
        const [{ deployment, tickers, intervalMs }, watched] = await Promise.all([
          snapshotFor(context),
          deps.watchlist.enabledTickers(),
        ]);
        const now = deps.now().getTime();
        const staleAfter = staleAfterMs(intervalMs);
        return {
          provider: deps.providerName,
          priceIntervalMs: intervalMs,
          staleAfterSeconds: staleAfter / 1000,
          freshness: present(assessFreshness(deployment, now, staleAfter)),
          // Records outlive a ticker's removal from the watchlist; only the watched ones are answered.
          tickers: watched.flatMap((ticker) => {
            const record = tickers.get(ticker);
            return record ? [{ ticker, freshness: present(assessFreshness(record, now, staleAfter)) }] : [];
          }),
        };
      },
      watchlist: () => deps.watchlist.list(),
      providerStatus: async () => {
        if (!deps.providerStatus) throw new GraphQLError('provider status is not available on this server');
        const status = await deps.providerStatus();
        return {
          name: status.name,
          plan: status.plan ?? null,
          priceEveryMs: status.priceEveryMs ?? null,
          circuit: status.breaker.state.toUpperCase().replace('-', '_'),
          consecutiveFailures: status.breaker.failures,
          nextProbeAt: status.breaker.retryAt === undefined ? null : new Date(status.breaker.retryAt),
          stream: status.stream ? status.stream.state.toUpperCase() : 'OFF',
        };
      },
      priceBars: async (_: unknown, args: { ticker: string; from?: Date | null; to?: Date | null }) => {
        if (!deps.priceBars) throw new GraphQLError('provider bars are not available on this server');
        const [ticker] = parseTickers('ticker', [args.ticker]);
        const window = parseWindow(args.from, args.to, deps.now());
        const bars = await deps.priceBars(ticker!, window.from, window.to);
        return {
          ticker,
          intervalS: bars[0]?.intervalS ?? null,
          times: bars.map((b) => b.start.getTime()),
          ends: bars.map((b) => b.start.getTime() + b.intervalS * 1000),
          open: bars.map((b) => b.open),
          high: bars.map((b) => b.high),
          low: bars.map((b) => b.low),
          close: bars.map((b) => b.close),
          volume: bars.map((b) => b.volume ?? null),
        };
      },
      market: () => {
        const now = deps.now();
        const next = nextSession(now);
        const previous = previousSession(now);
        return {
          open: isMarketOpen(now),
          followsCalendar: deps.followsCalendar === true,
          nextOpen: next ? new Date(next.openMs) : null,
          lastClose: previous ? new Date(previous.closeMs) : null,
        };
      },
      historyFill: async () => {
        if (!deps.historyProgress) throw new GraphQLError('history progress is not available on this server');
        const progress = await deps.historyProgress();
        return {
          filling: progress.filling.length > 0,
          percent: progress.planned === 0 ? 100 : Math.floor((progress.done / progress.planned) * 100),
          spansDone: progress.done,
          spansPlanned: progress.planned,
          tickers: progress.filling,
          unavailable: progress.unavailable ?? null,
        };
      },
      stock: async (_: unknown, args: { ticker: string }) => {
        const [ticker] = parseTickers('ticker', [args.ticker]);
        const entries = await deps.watchlist.list();
        return entries.find((entry: WatchlistEntry) => entry.ticker === ticker) ?? null;
      },
      permissions: (_: unknown, __: unknown, context: RequestContext) => ({
        canEditWatchlist: context.admin?.allowed === true,
        adminMode: deps.adminMode.toUpperCase(),
      }),
      priceHistory: async (
        _: unknown,
        args: { tickers?: string[] | null; from?: Date | null; to?: Date | null; width?: number | null },
      ) => {
        const window = parseWindow(args.from, args.to, deps.now());
        const width = parseWidth(args.width);
        const tickers = args.tickers
          ? parseTickers('tickers', args.tickers)
          : await deps.watchlist.enabledTickers();
        const series = await deps.priceHistory(tickers, window.from, window.to, width);
        return series.map((s) => ({ ...s, source: s.source.toUpperCase() }));
      },
      candles: async (
        _: unknown,
        args: {
          tickers?: string[] | null;
          interval?: CandleIntervalName | null;
          from?: Date | null;
          to?: Date | null;
          width?: number | null;
        },
      ) => {
        if (!deps.candles) throw new GraphQLError('candles are not available on this server');
        const window = parseWindow(args.from, args.to, deps.now());
        const width = parseWidth(args.width);
        const tickers = args.tickers
          ? parseTickers('tickers', args.tickers)
          : await deps.watchlist.enabledTickers();
        // At most one candle per pixel column, as priceHistory reduces to its width.
        const interval = candleInterval(
          args.interval ?? undefined,
          window.to.getTime() - window.from.getTime(),
          width,
        );
        const series = await deps.candles({ tickers, ...window, stride: interval.sql }, interval.seconds);
        return series.map((candles) => ({ ...candles, interval: interval.name }));
      },
      barHistory: async (
        _: unknown,
        args: { tickers?: string[] | null; from?: Date | null; to?: Date | null; width?: number | null },
      ) => {
        if (!deps.barHistory) throw new GraphQLError('provider bars are not available on this server');
        const window = parseWindow(args.from, args.to, deps.now());
        const width = parseWidth(args.width);
        const tickers = args.tickers
          ? parseTickers('tickers', args.tickers)
          : await deps.watchlist.enabledTickers();
        return deps.barHistory(tickers, window.from, window.to, width);
      },
      alertRules: async (
        _: unknown,
        args: { first?: number | null; after?: string | null },
        context: RequestContext,
      ) => {
        requireAdmin(context);
        const first = parseFiringsLimit(args.first ?? MAX_FIRINGS_PER_REQUEST, 'first');
        const after = args.after == null ? 0 : parseRuleId(args.after);
        return (await deps.alerts.list({ after, first })).map(presentRule);
      },
      alertFirings: async (
        _: unknown,
        args: { tickers?: string[] | null; from?: Date | null; to?: Date | null; limit?: number | null },
      ) => {
        const window = parseWindow(args.from, args.to, deps.now());
        const limit = parseFiringsLimit(args.limit);
        const tickers = args.tickers ? parseTickers('tickers', args.tickers) : undefined;
        return (await deps.alerts.firings({ tickers, ...window, limit })).map(presentFiring);
      },
    },
    Mutation: {
      addToWatchlist: (_: unknown, args: { ticker: string }, context: RequestContext) =>
        audited(context, 'graphql.addToWatchlist', String(args.ticker).slice(0, 40), async () => {
          const [ticker] = parseTickers('ticker', [args.ticker]) as [string];
          const entries = await deps.watchlist.list();
          const watched = entries.filter((entry) => entry.enabled);
          if (!watched.some((entry) => entry.ticker === ticker) && watched.length >= MAX_SYMBOLS) {
            throw badInput('ticker', `the watchlist already holds the maximum of ${MAX_SYMBOLS} tickers`);
          }
          await deps.watchlist.add(ticker);
          await deps.onWatchlistChanged(ticker);
          return (await deps.watchlist.list()).find((entry) => entry.ticker === ticker);
        }),
      removeFromWatchlist: (_: unknown, args: { ticker: string }, context: RequestContext) =>
        audited(context, 'graphql.removeFromWatchlist', String(args.ticker).slice(0, 40), async () => {
          const [ticker] = parseTickers('ticker', [args.ticker]) as [string];
          return deps.watchlist.remove(ticker);
        }),
      createAlertRule: (_: unknown, args: { input: AlertRuleArgs }, context: RequestContext) =>
        audited(context, 'graphql.createAlertRule', String(args.input.ticker).slice(0, 40), async () => {
          const spec = parseAlertRuleArgs(args.input);
          if ((await deps.alerts.count()) >= MAX_ALERT_RULES) {
            throw badInput('input', `there are already the maximum of ${MAX_ALERT_RULES} alert rules`);
          }
          return presentRule(await deps.alerts.create(spec));
        }),
      setAlertRulePaused: (_: unknown, args: { id: string; paused: boolean }, context: RequestContext) =>
        audited(context, 'graphql.setAlertRulePaused', String(args.id).slice(0, 20), async () => {
          const rule = await deps.alerts.setPaused(parseRuleId(args.id), args.paused);
          if (!rule) throw badInput('id', `no alert rule has id ${args.id}`);
          return presentRule(rule);
        }),
      deleteAlertRule: (_: unknown, args: { id: string }, context: RequestContext) =>
        audited(context, 'graphql.deleteAlertRule', String(args.id).slice(0, 20), async () =>
          deps.alerts.remove(parseRuleId(args.id)),
        ),
    },
    Subscription: {
      ticks: {
        subscribe: (_: unknown, args: { tickers?: string[] | null }) =>
          perTicker(deps.pubSub.subscribe(deps.ticksTopic), parseTicks, args.tickers),
        resolve: (batch: Tick[]) => batch,
      },
      alerts: {
        subscribe: (_: unknown, args: { tickers?: string[] | null }) =>
          perTicker(deps.pubSub.subscribe(deps.alertsTopic), parsePublishedFirings, args.tickers),
        resolve: (batch: AlertFiring[]) => batch.map(presentFiring),
      },
    },
  };
}

/**
 * A pub/sub topic's batches, parsed, kept to the tickers asked for (all when none), empty batches dropped.
 * The tickers are checked when the subscription starts, so a bad one is an error, not a silent stream.
 */
function perTicker<T extends { ticker: string }>(
  source: Repeater<unknown>,
  parse: (payload: unknown) => T[],
  tickers: readonly string[] | null | undefined,
) {
  const wanted = tickers ? new Set(parseTickers('tickers', tickers)) : undefined;
  return pipe(
    source,
    map((payload: unknown) => parse(payload).filter((item) => !wanted || wanted.has(item.ticker))),
    filter((batch: T[]) => batch.length > 0),
  );
}
