import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import { isMarketOpen } from '../../src/domain/market-calendar.ts';

/**
 * A local stand-in for the five market-data providers: one node:http server on 127.0.0.1 and a free port,
 * each provider under its own path prefix (`/finnhub/api/v1/quote`, `/polygon/v2/snapshot/…`). It answers
 * in the providers' documented JSON, built from the fixtures in test/fixtures/providers, checks the key the
 * way each provider takes it, and can be told to misbehave: 500s, timeouts, 429s with Retry-After, in-body
 * rate limits, truncated or dropped bodies, HTML error pages, empty bodies, arbitrary JSON, slow answers.
 * No test ever reaches a real provider.
 */

export type FakeProvider = 'finnhub' | 'twelvedata' | 'alphavantage' | 'yahoo' | 'polygon';

export interface Listing {
  price: number;
  /** The trade time the provider reports. */
  time: Date;
  name: string;
  high52: number;
  low52: number;
}

export type FaultKind =
  | { kind: 'status'; status: number; body?: string; contentType?: string }
  /** The provider's own rate-limit answer: HTTP 429, or in the body where the provider does that. */
  | { kind: 'rate-limit'; retryAfterSeconds?: number; header?: 'retry-after' | 'reset'; variant?: string }
  /** Holds the request open until the client gives up (or the server closes). */
  | { kind: 'timeout' }
  /** Answers normally, after a delay. */
  | { kind: 'slow'; delayMs: number }
  /** Valid JSON cut in half, with a matching Content-Length: a complete but truncated answer. */
  | { kind: 'truncated' }
  /** Promises more bytes than it sends, then closes the connection mid-body. */
  | { kind: 'drop' }
  | { kind: 'html' }
  | { kind: 'empty' }
  /** Any JSON at all, with HTTP 200 (wrong types, negative prices, "NaN" strings …). */
  | { kind: 'json'; body: unknown; status?: number };

export type Fault = FaultKind & {
  provider?: FakeProvider;
  /** Matches the provider-local path (e.g. '/quote', /^\/v8\//). */
  path?: string | RegExp;
  /** Only requests for this symbol (per-symbol endpoints, or a batch that includes it). */
  symbol?: string;
  /** How many matching requests it spoils; default 1. */
  times?: number;
};

export interface RecordedRequest {
  provider: FakeProvider;
  path: string;
  query: Record<string, string>;
  symbols: string[];
  /** Date.now() when the request arrived. */
  at: number;
  headers: IncomingMessage['headers'];
  /** What the fake did with it: 'ok', 'unknown', 'auth', or the fault kind. */
  outcome: string;
}

/**
 * A provider's limits as the fake enforces them: at most `max` requests (credits: a Twelve Data batch costs
 * one per symbol) in any sliding `windowMs`, and optionally at most `burst.max` in any `burst.windowMs`.
 * A request over a limit gets the provider's own rate-limit answer and is recorded as 'limited'.
 */
export interface FakeLimit {
  max: number;
  windowMs: number;
  burst?: { max: number; windowMs: number };
}

/**
 * The free tiers as documented (2026): Finnhub 60/min and 30/s; Twelve Data 8 credits/min (and 800/day,
 * which 10 minutes cannot reach); Alpha Vantage 25/day and about one a second; Massive/Polygon 5/min;
 * Yahoo publishes nothing, so the 100/min this app assumes.
 */
export const FREE_TIERS: Record<FakeProvider, FakeLimit> = {
  finnhub: { max: 60, windowMs: 60_000, burst: { max: 30, windowMs: 1000 } },
  twelvedata: { max: 8, windowMs: 60_000 },
  alphavantage: { max: 25, windowMs: 86_400_000, burst: { max: 1, windowMs: 1000 } },
  polygon: { max: 5, windowMs: 60_000 },
  yahoo: { max: 100, windowMs: 60_000 },
};

export const FAKE_KEYS: Record<Exclude<FakeProvider, 'yahoo'>, string> = {
  finnhub: 'fake-finnhub-key',
  twelvedata: 'fake-twelvedata-key',
  alphavantage: 'fake-alphavantage-key',
  polygon: 'fake-polygon-key',
};

/** A Friday after the close: a quote that does not change until Monday. */
export const DEFAULT_TRADE_TIME = new Date('2026-11-27T21:00:00.000Z');

const DEFAULT_MARKET: Record<string, Omit<Listing, 'time'>> = {
  GE: { price: 180.25, name: 'General Electric Company', high52: 194.8, low52: 102.1 },
  AMZN: { price: 207.5, name: 'Amazon.com, Inc.', high52: 215.9, low52: 144.05 },
  NVDA: { price: 138.2, name: 'NVIDIA Corporation', high52: 152.89, low52: 45.01 },
  INTC: { price: 24.1, name: 'Intel Corporation', high52: 51.28, low52: 18.51 },
  AAPL: { price: 237.33, name: 'Apple Inc.', high52: 237.81, low52: 164.08 },
  NFLX: { price: 886.8, name: 'Netflix, Inc.', high52: 897.79, low52: 461.86 },
  MSFT: { price: 423.46, name: 'Microsoft Corporation', high52: 468.35, low52: 362.9 },
};

/** Where the fake serves Finnhub's logo images (Finnhub's own static host uses the same path). */
const FINNHUB_LOGO_PATH = '/file/publicdatany/finnhubimage/stock_logo/';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/providers');
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
const clone = <T>(value: T): T => structuredClone(value);

export interface FakeUpstream {
  url: string;
  /** What to put in the environment for a provider: PROVIDER, its key and its base URL. */
  env(provider: FakeProvider, extra?: Record<string, string>): Record<string, string>;
  market: Map<string, Listing>;
  setQuote(symbol: string, price: number, time?: Date): void;
  inject(fault: Fault): void;
  clearFaults(): void;
  requests: RecordedRequest[];
  /** Requests to a provider (optionally one path) since the last reset. */
  requestsTo(provider: FakeProvider, path?: string | RegExp): RecordedRequest[];
  /** The most requests that were ever in flight at once. */
  maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
  /**
   * Finnhub's trade stream at `${url}/finnhub-ws` (FINNHUB_STREAM_URL), in its documented shapes: the key
   * in `?token=`, `{"type":"subscribe","symbol":…}` in, `{"type":"trade","data":[{s,p,t,v}]}` out.
   */
  stream: FakeTradeStream;
}

export interface FakeTradeStream {
  url: string;
  /** Every subscribe message received, in order, over all connections. */
  subscriptions: string[];
  /** Connections made (accepted or not). */
  connections: number;
  /** Sends a trade to every connection subscribed to the symbol. */
  trade(symbol: string, price: number, time: Date): void;
  /** Drops every connection; while `refuse` is set, new ones are closed at once. */
  drop(): void;
  refuse: boolean;
}

export interface FakeUpstreamOptions {
  /** Limits to enforce per provider (FREE_TIERS for the free plans); none by default. */
  limits?: Partial<Record<FakeProvider, FakeLimit>>;
  /** The fake's clock for its windows; tests on compressed time pass a scaled one. */
  now?: () => number;
  /**
   * Alpha Vantage's plan: `free` (the default) answers TIME_SERIES_INTRADAY with its documented premium
   * refusal, `premium` with a month of minute bars.
   */
  alphaVantagePlan?: 'free' | 'premium';
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const now = options.now ?? Date.now;
  /** Per provider, the instant and cost of every request it let through. */
  const spent = new Map<FakeProvider, { at: number; cost: number }[]>();
  const overLimit = (provider: FakeProvider, cost: number, at: number): boolean => {
    const limit = options.limits?.[provider];
    if (!limit) return false;
    const log = spent.get(provider) ?? [];
    spent.set(provider, log);
    const within = (windowMs: number) =>
      log.filter((entry) => entry.at > at - windowMs).reduce((sum, entry) => sum + entry.cost, 0);
    if (within(limit.windowMs) + cost > limit.max) return true;
    if (limit.burst && within(limit.burst.windowMs) + cost > limit.burst.max) return true;
    log.push({ at, cost });
    return false;
  };
  const market = new Map<string, Listing>();
  const resetMarket = () => {
    market.clear();
    for (const [symbol, listing] of Object.entries(DEFAULT_MARKET)) {
      market.set(symbol, { ...listing, time: DEFAULT_TRADE_TIME });
    }
  };
  resetMarket();
  let faults: (Fault & { left: number })[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  let url = '';

  const takeFault = (provider: FakeProvider, localPath: string, symbols: string[]) => {
    const index = faults.findIndex(
      (f) =>
        (f.provider === undefined || f.provider === provider) &&
        (f.path === undefined ||
          (typeof f.path === 'string' ? localPath === f.path : f.path.test(localPath))) &&
        (f.symbol === undefined || symbols.includes(f.symbol)),
    );
    if (index === -1) return undefined;
    const fault = faults[index]!;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const server = createServer((req, res) => {
    inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on('close', () => {
      inFlight -= 1;
    });
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `fake upstream bug: ${String(error)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const requestUrl = new URL(req.url ?? '/', 'http://fake');
    const [, first, ...rest] = requestUrl.pathname.split('/');
    const provider = first as FakeProvider;
    let localPath = `/${rest.join('/')}`;
    if (provider === 'finnhub') localPath = localPath.replace(/^\/api\/v1/, '');
    const query = Object.fromEntries(requestUrl.searchParams);
    const symbols = symbolsOf(provider, localPath, query);
    const record: RecordedRequest = {
      provider,
      path: localPath,
      query,
      symbols,
      at: now(),
      headers: req.headers,
      outcome: 'ok',
    };
    requests.push(record);
    // A Twelve Data /quote costs a credit per symbol; every other request one.
    const cost = provider === 'twelvedata' && localPath === '/quote' ? Math.max(1, symbols.length) : 1;
    if (overLimit(provider, cost, record.at)) {
      record.outcome = 'limited';
      return answerRateLimit(provider, { kind: 'rate-limit' }, res);
    }

    const fault = takeFault(provider, localPath, symbols);
    if (fault) {
      record.outcome = fault.kind;
      if (fault.kind === 'timeout') return; // never answers; the socket is destroyed at close()
      if (fault.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      else return misbehave(provider, fault, res);
    }
    if (!authorised(provider, req, query)) {
      record.outcome = 'auth';
      return answerAuthFailure(provider, res);
    }
    const answer = route(provider, localPath, query, symbols, url);
    if (answer.unknown) record.outcome = 'unknown';
    if (answer.raw) return send(res, answer.status, answer.contentType ?? 'application/json', answer.raw);
    sendJson(res, answer.status, answer.body);
  }

  function route(
    provider: FakeProvider,
    localPath: string,
    query: Record<string, string>,
    symbols: string[],
    baseUrl: string,
  ): { status: number; body?: unknown; raw?: string | Buffer; contentType?: string; unknown?: boolean } {
    const one = symbols[0] ?? '';
    const listing = market.get(one);
    switch (provider) {
      case 'finnhub': {
        if (localPath === '/quote') {
          if (!listing) return { status: 200, body: fixture('finnhub/quote-unknown.json'), unknown: true };
          return { status: 200, body: finnhubQuote(listing) };
        }
        if (localPath === '/stock/profile2') {
          if (!listing) return { status: 200, body: {}, unknown: true };
          const body = clone(fixture('finnhub/profile2.json')) as Record<string, unknown>;
          body.name = listing.name;
          body.ticker = one;
          // Finnhub's logos live on its static host (static2.finnhub.io/file/publicdatany/…); here, on
          // this server, so the worker's download stays local.
          body.logo = `${baseUrl}/finnhub${FINNHUB_LOGO_PATH}${one}.png`;
          return { status: 200, body };
        }
        if (localPath.startsWith(FINNHUB_LOGO_PATH)) {
          if (!listing) return { status: 404, raw: 'Not Found', contentType: 'text/plain' };
          return {
            status: 200,
            raw: readFileSync(path.join(FIXTURES, 'finnhub/logo.png')),
            contentType: 'image/png',
          };
        }
        if (localPath === '/stock/metric') {
          if (!listing) return { status: 200, body: { metric: {}, metricType: '', series: {}, symbol: one } };
          const body = clone(fixture('finnhub/metric.json')) as { metric: Record<string, unknown> };
          body.metric['52WeekHigh'] = listing.high52;
          body.metric['52WeekLow'] = listing.low52;
          return { status: 200, body };
        }
        break;
      }
      case 'twelvedata': {
        if (localPath === '/quote') {
          const items = symbols.map((s) => [s, twelveDataQuote(s, market.get(s))] as const);
          if (symbols.length === 1) return { status: 200, body: items[0]![1], unknown: !listing };
          return { status: 200, body: Object.fromEntries(items) };
        }
        if (localPath === '/logo') {
          if (!listing) return { status: 200, body: twelveDataNotFound(one), unknown: true };
          const body = clone(fixture('twelvedata/logo.json')) as Record<string, unknown>;
          body.meta = { symbol: one, exchange: 'NASDAQ' };
          // Twelve Data answers https://api.twelvedata.com/logo/{domain}; here, on this server.
          body.url = `${baseUrl}/twelvedata/logo/${one.toLowerCase()}.com`;
          return { status: 200, body };
        }
        if (localPath === '/time_series') {
          if (!listing) return { status: 200, body: twelveDataNotFound(one), unknown: true };
          const utcMs = (text: string | undefined) => Date.parse(`${(text ?? '').replace(' ', 'T')}Z`);
          const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
          const values = sessionMinuteBars(listing, utcMs(query.start_date), utcMs(query.end_date))
            .filter((bar) => bar.traded)
            .map(({ t, o, h, l, c, v }) => ({
              datetime: iso(t),
              open: o.toFixed(5),
              high: h.toFixed(5),
              low: l.toFixed(5),
              close: c.toFixed(5),
              volume: String(v),
            }));
          return {
            status: 200,
            body: {
              meta: {
                symbol: one,
                interval: '1min',
                currency: 'USD',
                exchange_timezone: 'UTC',
                type: 'Common Stock',
              },
              values,
              status: 'ok',
            },
          };
        }
        if (localPath.startsWith('/logo/')) {
          if (!listing) return { status: 404, raw: 'Not Found', contentType: 'text/plain' };
          return {
            status: 200,
            raw: readFileSync(path.join(FIXTURES, 'twelvedata/logo.png')),
            contentType: 'image/png',
          };
        }
        break;
      }
      case 'alphavantage': {
        if (localPath !== '/query') break;
        if (query.function === 'GLOBAL_QUOTE') {
          if (!listing)
            return { status: 200, body: fixture('alphavantage/global-quote-unknown.json'), unknown: true };
          const body = clone(fixture('alphavantage/global-quote.json')) as {
            'Global Quote': Record<string, string>;
          };
          body['Global Quote']['01. symbol'] = one;
          body['Global Quote']['05. price'] = listing.price.toFixed(4);
          return { status: 200, body };
        }
        if (query.function === 'TIME_SERIES_INTRADAY') {
          if ((options.alphaVantagePlan ?? 'free') === 'free') {
            return { status: 200, body: fixture('alphavantage/intraday-premium.json') };
          }
          if (!listing)
            return { status: 200, body: fixture('alphavantage/error-invalid-call.json'), unknown: true };
          return { status: 200, body: alphaVantageIntraday(one, listing, query.month ?? '') };
        }
        if (query.function === 'OVERVIEW') {
          if (!listing) return { status: 200, body: {}, unknown: true };
          const body = clone(fixture('alphavantage/overview.json')) as Record<string, string>;
          body.Symbol = one;
          body.Name = listing.name;
          body['52WeekHigh'] = String(listing.high52);
          body['52WeekLow'] = String(listing.low52);
          return { status: 200, body };
        }
        return {
          status: 200,
          body: { 'Error Message': 'Invalid API call. Please retry or visit the documentation.' },
        };
      }
      case 'yahoo': {
        if (!localPath.startsWith('/v8/finance/chart/')) break;
        if (!listing) return { status: 404, body: fixture('yahoo/chart-not-found.json'), unknown: true };
        if (query.period1 !== undefined) {
          const [period1, period2] = [Number(query.period1), Number(query.period2)];
          // Yahoo keeps minute bars about 30 days back, and says so with a 422.
          if (query.interval === '1m' && period1 * 1000 < now() - 30 * 86_400_000) {
            return { status: 422, body: fixture('yahoo/chart-unprocessable.json') };
          }
          return { status: 200, body: yahooBars(one, listing, period1, period2, query.interval ?? '1d') };
        }
        return { status: 200, body: yahooChart(one, listing, query.range ?? '1d') };
      }
      case 'polygon': {
        if (localPath === '/v2/snapshot/locale/us/markets/stocks/tickers') {
          const template = (fixture('polygon/snapshot.json') as { tickers: unknown[] }).tickers[0];
          const tickers = symbols
            .filter((s) => market.has(s))
            .map((s) => polygonSnapshotTicker(template, s, market.get(s)!));
          return { status: 200, body: { count: tickers.length, status: 'OK', tickers } };
        }
        if (localPath.startsWith('/v3/reference/tickers/')) {
          if (!listing) return { status: 404, body: fixture('polygon/not-found.json'), unknown: true };
          const body = clone(fixture('polygon/ticker-details.json')) as {
            results: { ticker: string; name: string; branding: { logo_url: string; icon_url: string } };
          };
          body.results.ticker = one;
          body.results.name = listing.name;
          body.results.branding.logo_url = `${baseUrl}/polygon/v1/reference/company-branding/${one}/images/logo.svg`;
          body.results.branding.icon_url = `${baseUrl}/polygon/v1/reference/company-branding/${one}/images/icon.png`;
          return { status: 200, body };
        }
        if (localPath.startsWith('/v1/reference/company-branding/')) {
          return {
            status: 200,
            raw: readFileSync(path.join(FIXTURES, 'polygon/logo.svg')),
            contentType: 'image/svg+xml',
          };
        }
        if (localPath.startsWith('/v2/aggs/ticker/')) {
          if (!listing) {
            return {
              status: 200,
              body: { ticker: one, queryCount: 0, resultsCount: 0, adjusted: true, status: 'OK' },
            };
          }
          const minutes = localPath.match(/\/range\/1\/minute\/(\d+)\/(\d+)$/);
          if (minutes) {
            const results = sessionMinuteBars(listing, Number(minutes[1]), Number(minutes[2]) + 1)
              .filter((bar) => bar.traded)
              .map(({ t, o, h, l, c, v }) => ({ t, o, h, l, c, v, vw: o, n: 10 }));
            return {
              status: 200,
              body: {
                ticker: one,
                adjusted: true,
                queryCount: results.length,
                resultsCount: results.length,
                status: 'OK',
                results,
              },
            };
          }
          return { status: 200, body: polygonAggregates(one, listing) };
        }
        break;
      }
    }
    return { status: 404, raw: '404 page not found', contentType: 'text/plain' };
  }

  function finnhubQuote(listing: Listing) {
    const body = clone(fixture('finnhub/quote.json')) as Record<string, number>;
    body.c = listing.price;
    body.t = Math.floor(listing.time.getTime() / 1000);
    return body;
  }

  function twelveDataQuote(symbol: string, listing: Listing | undefined) {
    if (!listing) return twelveDataNotFound(symbol);
    const body = clone(fixture('twelvedata/quote.json')) as Record<string, unknown>;
    const seconds = Math.floor(listing.time.getTime() / 1000);
    body.symbol = symbol;
    body.name = listing.name;
    body.close = listing.price.toFixed(5);
    body.timestamp = seconds - (seconds % 86_400);
    body.last_quote_at = seconds;
    body.fifty_two_week = {
      ...(body.fifty_two_week as object),
      high: listing.high52.toFixed(5),
      low: listing.low52.toFixed(5),
    };
    return body;
  }

  function twelveDataNotFound(symbol: string) {
    const body = clone(fixture('twelvedata/error-404.json')) as Record<string, unknown>;
    body.message = `**symbol** not found: ${symbol}. Please specify it correctly according to API Documentation.`;
    return body;
  }

  /**
   * The chart with bars of `interval` (1m, 5m, 1h or 1d) over the session minutes in [period1, period2):
   * each bar the session's traded minutes from its start (counted from the session's open), as Yahoo
   * anchors them; an interval without a trade has nulls.
   */
  function yahooBars(symbol: string, listing: Listing, period1: number, period2: number, interval: string) {
    const body = yahooChart(symbol, listing, '1d');
    const result = body.chart.result[0]!;
    result.meta.dataGranularity = interval;
    const lengthMs = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 }[interval] ?? 60_000;
    const bars: ReturnType<typeof sessionMinuteBars> = [];
    let open = 0;
    for (const minute of sessionMinuteBars(listing, period1 * 1000, period2 * 1000)) {
      // Bars count from the session's open, wherever the request starts (a session lies in one UTC day).
      if (new Date(minute.t).toISOString().slice(0, 10) !== new Date(open).toISOString().slice(0, 10)) {
        open = minute.t;
        while (isMarketOpen(new Date(open - 60_000))) open -= 60_000;
      }
      const start = open + Math.floor((minute.t - open) / lengthMs) * lengthMs;
      const last = bars[bars.length - 1];
      if (!last || last.t !== start) {
        bars.push({ ...minute, t: start, v: minute.traded ? minute.v : 0 });
      } else if (minute.traded) {
        if (!last.traded) Object.assign(last, { o: minute.o, h: minute.h, l: minute.l, v: 0, traded: true });
        Object.assign(last, { h: Math.max(last.h, minute.h), l: Math.min(last.l, minute.l), c: minute.c });
        last.v += minute.v;
      }
    }
    result.timestamp = bars.map((bar) => bar.t / 1000);
    const column = (key: 'o' | 'h' | 'l' | 'c' | 'v') => bars.map((bar) => (bar.traded ? bar[key] : null));
    result.indicators.quote[0] = {
      open: column('o'),
      high: column('h'),
      low: column('l'),
      close: column('c'),
      volume: column('v'),
    } as Record<string, number[]>;
    return body;
  }

  function yahooChart(symbol: string, listing: Listing, range: string) {
    const body = clone(fixture('yahoo/chart.json')) as {
      chart: {
        result: {
          meta: Record<string, unknown>;
          timestamp: number[];
          indicators: { quote: Record<string, number[]>[] };
        }[];
      };
    };
    const result = body.chart.result[0]!;
    Object.assign(result.meta, {
      symbol,
      regularMarketPrice: listing.price,
      regularMarketTime: Math.floor(listing.time.getTime() / 1000),
      fiftyTwoWeekHigh: listing.high52,
      fiftyTwoWeekLow: listing.low52,
      longName: listing.name,
      shortName: listing.name,
      range,
    });
    if (range === '1y') {
      result.timestamp = [1701000000, 1716000000, 1732717800];
      result.indicators.quote[0] = {
        open: [listing.low52, listing.price, listing.price],
        high: [listing.low52 + 1, listing.high52, Math.min(listing.price + 1, listing.high52)],
        low: [
          listing.low52,
          Math.max(listing.price - 1, listing.low52),
          Math.max(listing.price - 1, listing.low52),
        ],
        close: [listing.low52 + 0.5, listing.price, listing.price],
        volume: [1000, 1000, 1000],
      };
    }
    return body;
  }

  function polygonSnapshotTicker(template: unknown, symbol: string, listing: Listing) {
    const item = clone(template) as { ticker: string; lastTrade: { p: number; t: number }; updated: number };
    item.ticker = symbol;
    item.lastTrade.p = listing.price;
    item.lastTrade.t = listing.time.getTime() * 1e6;
    item.updated = listing.time.getTime() * 1e6;
    return item;
  }

  function polygonAggregates(symbol: string, listing: Listing) {
    const body = clone(fixture('polygon/aggregates.json')) as {
      ticker: string;
      results: Record<string, number>[];
    };
    body.ticker = symbol;
    const [a, b, c] = body.results;
    Object.assign(a!, { h: listing.low52 + 2, l: listing.low52, o: listing.low52 + 1, c: listing.low52 + 1 });
    Object.assign(b!, {
      h: listing.high52,
      l: listing.high52 - 3,
      o: listing.high52 - 2,
      c: listing.high52 - 1,
    });
    Object.assign(c!, {
      h: Math.min(listing.price + 1, listing.high52),
      l: Math.max(listing.price - 1, listing.low52),
      o: listing.price,
      c: listing.price,
    });
    return body;
  }

  function misbehave(provider: FakeProvider, fault: FaultKind, res: ServerResponse) {
    switch (fault.kind) {
      case 'status':
        return send(
          res,
          fault.status,
          fault.contentType ?? 'text/plain',
          fault.body ?? `HTTP ${fault.status}`,
        );
      case 'json':
        return sendJson(res, fault.status ?? 200, fault.body);
      case 'html':
        return send(
          res,
          502,
          'text/html',
          '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>',
        );
      case 'empty':
        return send(res, 200, 'application/json', '');
      case 'truncated': {
        const text = JSON.stringify(validBodyFor(provider));
        return send(res, 200, 'application/json', text.slice(0, Math.floor(text.length / 2)));
      }
      case 'drop': {
        const text = JSON.stringify(validBodyFor(provider));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length * 2) });
        res.write(text.slice(0, 20));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      case 'rate-limit':
        return answerRateLimit(provider, fault, res);
    }
  }

  function validBodyFor(provider: FakeProvider): unknown {
    const listing = market.get('AAPL')!;
    return provider === 'finnhub'
      ? finnhubQuote(listing)
      : provider === 'twelvedata'
        ? twelveDataQuote('AAPL', listing)
        : provider === 'yahoo'
          ? yahooChart('AAPL', listing, '1d')
          : provider === 'polygon'
            ? fixture('polygon/snapshot.json')
            : fixture('alphavantage/global-quote.json');
  }

  function answerRateLimit(
    provider: FakeProvider,
    fault: Extract<FaultKind, { kind: 'rate-limit' }>,
    res: ServerResponse,
  ) {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) {
      if (fault.header === 'reset') {
        headers['x-ratelimit-reset'] = String(Math.ceil(Date.now() / 1000 + fault.retryAfterSeconds));
        headers['x-ratelimit-remaining'] = '0';
      } else headers['retry-after'] = String(fault.retryAfterSeconds);
    }
    switch (provider) {
      case 'finnhub':
        return sendJson(res, 429, fixture('finnhub/rate-limit.json'), headers);
      case 'twelvedata':
        // Twelve Data answers HTTP 200 with the error in the body.
        return sendJson(res, 200, fixture('twelvedata/error-429.json'), headers);
      case 'alphavantage':
        // Alpha Vantage answers HTTP 200 with a Note or an Information instead of data.
        return sendJson(
          res,
          200,
          fixture(
            fault.variant === 'information' ? 'alphavantage/information.json' : 'alphavantage/note.json',
          ),
          headers,
        );
      case 'yahoo':
        return send(res, 429, 'text/plain', 'Too Many Requests\r\n', headers);
      case 'polygon':
        return sendJson(res, 429, fixture('polygon/rate-limit.json'), headers);
    }
  }

  function authorised(provider: FakeProvider, req: IncomingMessage, query: Record<string, string>): boolean {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    switch (provider) {
      case 'finnhub':
        return (header('x-finnhub-token') ?? query.token) === FAKE_KEYS.finnhub;
      case 'twelvedata':
        return (header('authorization') ?? `apikey ${query.apikey}`) === `apikey ${FAKE_KEYS.twelvedata}`;
      case 'alphavantage':
        return query.apikey === FAKE_KEYS.alphavantage;
      case 'polygon':
        return (header('authorization') ?? `Bearer ${query.apiKey}`) === `Bearer ${FAKE_KEYS.polygon}`;
      case 'yahoo':
        // Yahoo turns away clients that do not look like a browser (Node's fetch says "node").
        return !/^node$/i.test(header('user-agent') ?? 'node');
    }
  }

  function answerAuthFailure(provider: FakeProvider, res: ServerResponse) {
    switch (provider) {
      case 'finnhub':
        return sendJson(res, 401, fixture('finnhub/auth.json'));
      case 'twelvedata':
        return sendJson(res, 200, fixture('twelvedata/error-401.json'));
      case 'alphavantage':
        return sendJson(res, 200, fixture('alphavantage/error-apikey.json'));
      case 'polygon':
        return sendJson(res, 403, fixture('polygon/not-authorized.json'));
      case 'yahoo':
        return send(res, 429, 'text/plain', 'Too Many Requests\r\n');
    }
  }

  const sockets_ = new Map<WebSocket, Set<string>>();
  const wss = new WebSocketServer({ noServer: true });
  const stream: FakeTradeStream = {
    url: '',
    subscriptions: [],
    connections: 0,
    refuse: false,
    trade(symbol, price, time) {
      const message = JSON.stringify({
        type: 'trade',
        data: [{ s: symbol, p: price, t: time.getTime(), v: 100, c: ['1'] }],
      });
      for (const [socket, symbols] of sockets_) if (symbols.has(symbol)) socket.send(message);
    },
    drop() {
      for (const socket of sockets_.keys()) socket.terminate();
      sockets_.clear();
    },
  };
  server.on('upgrade', (req, socket, head) => {
    const requestUrl = new URL(req.url ?? '/', 'http://fake');
    if (requestUrl.pathname !== '/finnhub-ws') return socket.destroy();
    stream.connections += 1;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (stream.refuse || requestUrl.searchParams.get('token') !== FAKE_KEYS.finnhub) {
        ws.close(1008, 'refused');
        return;
      }
      const symbols = new Set<string>();
      sockets_.set(ws, symbols);
      ws.on('message', (raw) => {
        const message = JSON.parse(raw.toString()) as { type?: string; symbol?: string };
        if (message.type === 'subscribe' && message.symbol) {
          symbols.add(message.symbol);
          stream.subscriptions.push(message.symbol);
        }
      });
      ws.on('close', () => sockets_.delete(ws));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stream.url = `${url.replace(/^http/, 'ws')}/finnhub-ws`;

  return {
    url,
    env(provider, extra = {}) {
      const base = provider === 'finnhub' ? `${url}/finnhub/api/v1` : `${url}/${provider}`;
      const upper = provider.toUpperCase();
      return {
        PROVIDER: provider,
        [`${upper}_BASE_URL`]: base,
        ...(provider === 'yahoo' ? {} : { [`${upper}_API_KEY`]: FAKE_KEYS[provider] }),
        ...extra,
      };
    },
    market,
    setQuote(symbol, price, time = DEFAULT_TRADE_TIME) {
      const listing = market.get(symbol);
      if (!listing) throw new Error(`fake upstream: no listing for ${symbol}`);
      market.set(symbol, { ...listing, price, time });
    },
    inject(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    requests,
    requestsTo(provider, localPath) {
      return requests.filter(
        (r) =>
          r.provider === provider &&
          (localPath === undefined ||
            (typeof localPath === 'string' ? r.path === localPath : localPath.test(r.path))),
      );
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    reset() {
      faults = [];
      spent.clear();
      requests.length = 0;
      state.maxInFlight = inFlight;
      resetMarket();
    },
    stream,
    async close() {
      stream.drop();
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function symbolsOf(provider: FakeProvider, localPath: string, query: Record<string, string>): string[] {
  const list = (value: string | undefined) => (value ? value.split(',').filter(Boolean) : []);
  // Logo images: the ticker is in the path (`…/stock_logo/AAPL.png`, `/logo/aapl.com`).
  if (provider === 'finnhub' && localPath.startsWith(FINNHUB_LOGO_PATH)) {
    return [decodeURIComponent(localPath.slice(FINNHUB_LOGO_PATH.length).replace(/\.png$/, ''))];
  }
  if (provider === 'twelvedata' && localPath.startsWith('/logo/')) {
    return [decodeURIComponent(localPath.slice('/logo/'.length).replace(/\.com$/, '')).toUpperCase()];
  }
  if (provider === 'twelvedata' || provider === 'finnhub' || provider === 'alphavantage')
    return list(query.symbol);
  if (provider === 'yahoo') return [decodeURIComponent(localPath.split('/')[4] ?? '')];
  if (localPath.startsWith('/v2/snapshot/')) return list(query.tickers);
  if (localPath.startsWith('/v3/reference/tickers/'))
    return [decodeURIComponent(localPath.split('/')[4] ?? '')];
  if (localPath.startsWith('/v2/aggs/ticker/')) return [decodeURIComponent(localPath.split('/')[4] ?? '')];
  if (localPath.startsWith('/v1/reference/company-branding/'))
    return [decodeURIComponent(localPath.split('/')[4] ?? '')];
  return [];
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/**
 * One minute bar per minute of the regular session in [fromMs, toMs), around the listing's price. The
 * session's second minute had no trades: Yahoo answers it as nulls, Polygon leaves it out.
 */
function sessionMinuteBars(listing: Listing, fromMs: number, toMs: number) {
  const bars: { t: number; o: number; h: number; l: number; c: number; v: number; traded: boolean }[] = [];
  for (let t = Math.ceil(fromMs / 60_000) * 60_000; t < toMs; t += 60_000) {
    if (!isMarketOpen(new Date(t))) continue;
    const traded = !(isMarketOpen(new Date(t - 60_000)) && !isMarketOpen(new Date(t - 120_000)));
    const o = Math.round((listing.price + ((t / 60_000) % 7) / 100) * 100) / 100;
    bars.push({ t, o, h: o + 0.05, l: o - 0.05, c: o + 0.01, v: 1000 + ((t / 60_000) % 13), traded });
  }
  return bars;
}

const NEW_YORK_WALL = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * Alpha Vantage's TIME_SERIES_INTRADAY for one New York month ("2026-12"), as documented: "Meta Data",
 * then "Time Series (1min)" keyed by each bar's start in New York wall-clock time, newest first.
 */
function alphaVantageIntraday(symbol: string, listing: Listing, month: string) {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  // Every UTC minute that could fall in the New York month, filtered by its New York date below.
  const bars = sessionMinuteBars(
    listing,
    Date.UTC(year, mon - 1, 1) - 86_400_000,
    Date.UTC(year, mon, 1) + 86_400_000,
  )
    .filter((bar) => bar.traded)
    .map((bar) => ({ ...bar, wall: NEW_YORK_WALL.format(bar.t).replace(', ', ' ') }))
    .filter((bar) => bar.wall.startsWith(month))
    .reverse();
  return {
    'Meta Data': {
      '1. Information': 'Intraday (1min) open, high, low, close prices and volume',
      '2. Symbol': symbol,
      '3. Last Refreshed': bars[0]?.wall ?? `${month}-01 16:00:00`,
      '4. Interval': '1min',
      '5. Output Size': 'Full size',
      '6. Time Zone': 'US/Eastern',
    },
    'Time Series (1min)': Object.fromEntries(
      bars.map(({ wall, o, h, l, c, v }) => [
        wall,
        {
          '1. open': o.toFixed(4),
          '2. high': h.toFixed(4),
          '3. low': l.toFixed(4),
          '4. close': c.toFixed(4),
          '5. volume': String(v),
        },
      ]),
    ),
  };
}
