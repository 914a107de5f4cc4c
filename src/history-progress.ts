import type { Redis } from 'ioredis';

/**
 * How far the history jobs have come, kept in Redis so any API process can say it (GraphQL, the page) while
 * workers elsewhere fill. A planning round names the pieces it queued; each piece is struck off when its
 * job ends (stored, or failed for good). The round is forgotten when its last piece is struck off.
 */
export interface HistoryProgress {
  /** Pieces planned in the current round, and how many of them are finished. */
  planned: number;
  done: number;
  /** Tickers with a piece still to fill, sorted. */
  filling: string[];
  /** Why the provider fills no history, when it cannot. */
  unavailable?: string;
}

export interface HistoryProgressStore {
  /** Starts a round with these pieces (ids from `historyPieceId`), replacing what an earlier round left. */
  plan(pieceIds: readonly string[]): Promise<void>;
  /** Adds pieces to the round under way (a ticker added while the first backfill runs). */
  extend(pieceIds: readonly string[]): Promise<void>;
  finish(pieceId: string): Promise<void>;
  setUnavailable(reason: string | undefined): Promise<void>;
  /**
   * Remembers, for `forMs`, that the provider's plan refused its history endpoint (Alpha Vantage's
   * intraday series on a free key): said as `unavailable` meanwhile, and asked again only after.
   */
  refuse(reason: string, forMs: number): Promise<void>;
  /** The refusal remembered, while it lasts. */
  refusal(): Promise<string | undefined>;
  read(): Promise<HistoryProgress>;
}

/** A piece's id: the ticker and its span, which is also the fill job's id (one job per piece at a time). */
export function historyPieceId(ticker: string, startMs: number, endMs: number): string {
  return `${ticker}|${startMs}|${endMs}`;
}

export function tickerOfPiece(pieceId: string): string {
  return pieceId.slice(0, pieceId.indexOf('|'));
}

// Strikes a piece off and, when it was the last, forgets the round: one script, so a round extended at the
// same moment is never forgotten with pieces still pending.
const FINISH = `
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
return 1`;

export function createHistoryProgress(redis: Redis, prefix: string): HistoryProgressStore {
  const pending = `${prefix}:history:pending`;
  const planned = `${prefix}:history:planned`;
  const unavailable = `${prefix}:history:unavailable`;
  const refused = `${prefix}:history:refused`;
  const add = (ids: readonly string[], tx = redis.multi()) => {
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      tx.sadd(pending, ...part).sadd(planned, ...part);
    }
    return tx;
  };
  return {
    async plan(pieceIds) {
      // The sets are replaced in one transaction: a reader never sees the round half-planned.
      await add(pieceIds, redis.multi().del(pending, planned)).exec();
    },
    async extend(pieceIds) {
      if (pieceIds.length > 0) await add(pieceIds).exec();
    },
    async finish(pieceId) {
      await redis.eval(FINISH, 2, pending, planned, pieceId);
    },
    async setUnavailable(reason) {
      if (reason) await redis.set(unavailable, reason);
      else await redis.del(unavailable);
    },
    async refuse(reason, forMs) {
      await redis.set(refused, reason, 'PX', Math.max(1, Math.round(forMs)));
    },
    async refusal() {
      return (await redis.get(refused)) ?? undefined;
    },
    async read() {
      const [plannedCount, pendingIds, reason] = await Promise.all([
        redis.scard(planned),
        redis.smembers(pending),
        redis.mget(unavailable, refused).then(([never, refusedNow]) => never ?? refusedNow),
      ]);
      return {
        planned: plannedCount,
        done: Math.max(0, plannedCount - pendingIds.length),
        filling: [...new Set(pendingIds.map(tickerOfPiece))].sort(),
        ...(reason ? { unavailable: reason } : {}),
      };
    },
  };
}
