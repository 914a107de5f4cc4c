import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { z } from 'zod';
import type { Quote } from '../domain/market-records.ts';
import { price } from './validate.ts';

/**
 * Finnhub's free plan streams US trades over one WebSocket per key (https://finnhub.io/docs/api/websocket-trades):
 * connect to `wss://ws.finnhub.io?token=KEY`, send `{"type":"subscribe","symbol":"AAPL"}` per ticker, and
 * receive `{"type":"trade","data":[{"s":"AAPL","p":237.3,"t":1732741200000,"v":100}]}` (t in ms), plus
 * `{"type":"ping"}` and `{"type":"error","msg":…}`.
 *
 * The stream keeps the latest trade per ticker in Redis, so the price job (in any worker) stores what it
 * saw since the last slot without a REST request; while the stream is down the job falls back to REST.
 * Only one process holds the connection (a lease in Redis), since the key allows one. It reconnects with
 * backoff and subscribes again; its state is in Redis for GraphQL and the page.
 */
export type StreamState = 'connected' | 'connecting' | 'down';

export interface TradeStreamStatus {
  state: StreamState;
  /** When the state last changed (epoch ms). */
  since: number | undefined;
}

/** The latest trades, and whether the stream can be trusted for prices right now. */
export interface TradeStore {
  /** The latest trade of each of these tickers the stream has seen, when it is connected; otherwise none. */
  latest(symbols: readonly string[]): Promise<Quote[] | undefined>;
  status(): Promise<TradeStreamStatus>;
}

const keys = (prefix: string) => ({
  trades: `${prefix}:stream:trades`,
  state: `${prefix}:stream:state`,
  lease: `${prefix}:stream:lease`,
});

/** A holder that stops renewing (it died) loses the state after this, and its lease. */
const LEASE_MS = 15_000;
const RENEW_MS = 5000;
const FIRST_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 60_000;

export function createTradeStore(redis: Redis, prefix: string): TradeStore {
  const k = keys(prefix);
  return {
    async latest(symbols) {
      const state = await redis.hget(k.state, 'state');
      if (state !== 'connected' || symbols.length === 0) return undefined;
      const values = await redis.hmget(k.trades, ...symbols);
      const quotes: Quote[] = [];
      symbols.forEach((symbol, index) => {
        const value = values[index];
        if (!value) return;
        const { p, t } = JSON.parse(value) as { p: number; t: number };
        quotes.push({ symbol, price: p, time: new Date(t) });
      });
      return quotes;
    },
    async status() {
      const fields = await redis.hgetall(k.state);
      return {
        state: (fields.state as StreamState | undefined) ?? 'down',
        since: fields.since ? Number(fields.since) : undefined,
      };
    },
  };
}

const tradeMessage = z.object({
  type: z.literal('trade'),
  data: z.array(z.object({ s: z.string(), p: price, t: z.number().int().positive() })),
});
const otherMessage = z.object({ type: z.string(), msg: z.string().optional() });

/** Keeps a trade only if it is newer than the one stored: messages may arrive out of order. */
const KEEP_NEWER = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local t = tonumber(string.match(current, '"t":(%d+)'))
  if t and t >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** Renews the lease (and the state's life) only for its holder. */
const RENEW_LEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

export interface TradeStreamOptions {
  redis: Redis;
  prefix: string;
  /** The stream's URL without the key (FINNHUB_STREAM_URL); the key is added here and never logged. */
  url: string;
  apiKey: string;
  /** The tickers to subscribe to, asked at each (re)connection. */
  symbols(): Promise<string[]>;
  logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

export interface TradeStream {
  close(): Promise<void>;
}

export function startTradeStream(options: TradeStreamOptions): TradeStream {
  const { redis, logger } = options;
  const k = keys(options.prefix);
  const holder = randomUUID();
  let socket: WebSocket | undefined;
  let closed = false;
  let reconnectMs = FIRST_RECONNECT_MS;
  let timer: NodeJS.Timeout | undefined;
  let holding = false;

  // Trades arrive many times a second: while Redis is away their writes fail, and Redis' own outage is
  // logged by the clients, so one line per trade would only bury it.
  const inRedisOutage = (error: unknown) =>
    logger.debug({ err: error }, 'trade stream: Redis did not take a write');

  const setState = async (state: StreamState) => {
    await redis.multi().hset(k.state, 'state', state, 'since', Date.now()).pexpire(k.state, LEASE_MS).exec();
  };

  const connect = async () => {
    if (closed || !holding) return;
    await setState('connecting');
    const url = new URL(options.url);
    url.searchParams.set('token', options.apiKey);
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', async () => {
      const symbols = await options.symbols();
      // It may have closed meanwhile (a server that accepts and hangs up at once): then it stays down.
      if (ws.readyState !== WebSocket.OPEN) return;
      for (const symbol of symbols) ws.send(JSON.stringify({ type: 'subscribe', symbol }));
      await setState('connected');
      if (ws.readyState !== WebSocket.OPEN) await setState('down');
      logger.info({ provider: 'finnhub', symbols: symbols.length }, 'trade stream connected');
    });
    ws.on('message', (raw) => {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString());
      } catch {
        return;
      }
      // Something came over it: the connection works, so the next outage starts its backoff afresh.
      reconnectMs = FIRST_RECONNECT_MS;
      const trades = tradeMessage.safeParse(body);
      if (trades.success) {
        for (const trade of trades.data.data) {
          redis
            .eval(KEEP_NEWER, 1, k.trades, trade.s, JSON.stringify({ p: trade.p, t: trade.t }), trade.t)
            .catch(inRedisOutage);
        }
        return;
      }
      const other = otherMessage.safeParse(body);
      if (other.success && other.data.type === 'error') {
        logger.warn({ provider: 'finnhub', message: other.data.msg }, 'trade stream answered an error');
      }
    });
    ws.on('error', (error) => {
      logger.warn({ provider: 'finnhub', err: error.message }, 'trade stream error');
    });
    ws.on('close', () => {
      if (socket === ws) socket = undefined;
      if (closed) return;
      setState('down').catch(inRedisOutage);
      logger.warn(
        { provider: 'finnhub', reconnectMs },
        'trade stream closed; prices come over REST meanwhile',
      );
      timer = setTimeout(() => connect().catch(inRedisOutage), reconnectMs);
      reconnectMs = Math.min(MAX_RECONNECT_MS, reconnectMs * 2);
    });
  };

  // One holder per deployment (the key allows one connection): take the lease, keep renewing it; a holder
  // that dies lets it lapse and another worker takes over.
  const tend = async () => {
    if (closed) return;
    try {
      if (holding) {
        holding = Number(await redis.eval(RENEW_LEASE, 2, k.lease, k.state, holder, LEASE_MS)) === 1;
        // Someone else holds it now (this process stalled past the lease): one connection per key.
        if (!holding) socket?.close();
      } else if ((await redis.set(k.lease, holder, 'PX', LEASE_MS, 'NX')) === 'OK') {
        holding = true;
        connect().catch(inRedisOutage);
      }
    } catch (error) {
      logger.warn({ err: error }, 'trade stream lease could not be renewed');
    }
  };
  const leaseTimer = setInterval(() => void tend(), RENEW_MS);
  void tend();

  return {
    async close() {
      closed = true;
      clearInterval(leaseTimer);
      if (timer) clearTimeout(timer);
      socket?.close();
      if (holding) {
        await redis.del(k.lease).catch(() => {});
        await setState('down').catch(() => {});
      }
    },
  };
}
