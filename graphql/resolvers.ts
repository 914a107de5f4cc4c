import { filter, map, pipe } from 'graphql-yoga';
import type { TickRepository } from '../src/db/tick-repository.ts';
import type { WatchlistEntry, WatchlistRepository } from '../src/db/watchlist-repository.ts';
import { parseTicks, type Tick } from '../src/domain/tick.ts';
import { parseTickers, parseWidth, parseWindow } from './arguments.ts';
import type { TickPubSub } from './pubsub.ts';
import { DateTimeScalar } from './scalars.ts';

export interface ResolverDeps {
  watchlist: WatchlistRepository;
  ticks: TickRepository;
  pubSub: TickPubSub;
  ticksTopic: string;
  now(): Date;
}

export function createResolvers(deps: ResolverDeps) {
  return {
    DateTime: DateTimeScalar,
    Query: {
      watchlist: () => deps.watchlist.list(),
      stock: async (_: unknown, args: { ticker: string }) => {
        const [ticker] = parseTickers('ticker', [args.ticker]);
        const entries = await deps.watchlist.list();
        return entries.find((entry: WatchlistEntry) => entry.ticker === ticker) ?? null;
      },
      priceHistory: async (
        _: unknown,
        args: { tickers?: string[] | null; from?: Date | null; to?: Date | null; width?: number | null },
      ) => {
        const window = parseWindow(args.from, args.to, deps.now());
        const width = parseWidth(args.width);
        const tickers = args.tickers
          ? parseTickers('tickers', args.tickers)
          : await deps.watchlist.enabledTickers();
        const series = await deps.ticks.history(tickers, window.from, window.to, width);
        return series.map((s) => ({ ...s, source: s.source.toUpperCase() }));
      },
    },
    Subscription: {
      ticks: {
        subscribe: (_: unknown, args: { tickers?: string[] | null }) => {
          const wanted = args.tickers ? new Set(parseTickers('tickers', args.tickers)) : undefined;
          return pipe(
            deps.pubSub.subscribe(deps.ticksTopic),
            map((payload: unknown) =>
              parseTicks(payload).filter((t: Tick) => !wanted || wanted.has(t.ticker)),
            ),
            filter((batch: Tick[]) => batch.length > 0),
          );
        },
        resolve: (batch: Tick[]) => batch,
      },
    },
  };
}
