import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  BREAKER_THRESHOLD,
  circuitBreakerKey,
  createRedisCircuitBreaker,
} from '../../src/providers/circuit-breaker.ts';
import { startRole } from '../../src/start.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DEFAULT_TRADE_TIME, type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { graphql, runJob, settle, storedTicks, waitFor, watchlist } from '../helpers/provider-app.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';

/**
 * Faults are normal upstream; each has a defined outcome (issue 4). Each case injects one fault into the
 * fake upstream and checks what a user would notice: which ticks were stored, whether the job was retried
 * or paused, and what the error says. Everything runs through real BullMQ, Redis and Postgres.
 */
const TICKERS = ['AAPL', 'MSFT', 'NVDA'];

let fake: FakeUpstream;
let tradeTime = DEFAULT_TRADE_TIME.getTime();

/** Moves every listing to a new trade, so a successful fetch stores a new row for each. */
function newTrades(): Date {
  tradeTime += 60_000;
  const at = new Date(tradeTime);
  for (const symbol of TICKERS) fake.setQuote(symbol, fake.market.get(symbol)!.price + 0.01, at);
  return at;
}

/** A clock 1.5 s before a minute boundary, so a limit that lasts "until the next minute" lasts 2.5 s. */
function justBeforeAMinute(): Date {
  return new Date(Math.floor(Date.now() / 60_000) * 60_000 - 600_000 + 58_500);
}

beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake?.close());

describe('finnhub (one request per symbol)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      env: fake.env('finnhub', {
        SYMBOLS: TICKERS.join(','),
        PROVIDER_TIMEOUT_MS: '400',
        PROVIDER_CONCURRENCY: '2',
        PROVIDER_BUDGET: 'off',
      }),
    });
    await settle(app);
  });
  afterAll(() => app?.stop());
  beforeEach(async () => {
    fake.clearFaults();
    fake.requests.length = 0;
    // Each case starts with a provider the breaker trusts (an earlier outage case opened it).
    await app.deps.redis.del(circuitBreakerKey(app.prefix, 'finnhub'));
  });

  it('retries a provider that answers 500, with backoff, and stores the tick when it recovers', async () => {
    newTrades();
    fake.inject({ provider: 'finnhub', path: '/quote', kind: 'status', status: 500, times: 3 });
    const { state, job } = await runJob(app, 'prices');
    expect(state).toBe('completed');
    expect(job.attemptsMade).toBe(2);
    expect((job.stacktrace ?? []).join('\n')).toMatch(
      /finnhub: no quotes: 3 of 3 symbols failed; AAPL: finnhub: \/quote answered HTTP 500/,
    );
    expect(job.returnvalue).toMatchObject({ fetched: 3, stored: 3, failed: [] });
  });

  it('asks less, not more, when the provider stays down: the circuit opens after five failures in a row', async () => {
    newTrades();
    fake.inject({
      provider: 'finnhub',
      path: '/quote',
      kind: 'status',
      status: 503,
      times: Number.POSITIVE_INFINITY,
    });
    const { job } = await runJob(
      app,
      'prices',
      {},
      { attempts: 3, backoff: { type: 'exponential', delay: 50, jitter: 0.5 } },
    );
    // The first attempt's three and two of the second: then the circuit is open, and what is left of the
    // job (and every job after it until a probe goes) sends nothing. Without a breaker: nine requests.
    // One more may already be on its way: the second attempt's third request leaves 33 ms (Finnhub's
    // burst spacing) after its second, and may pass the breaker before the fifth failure is recorded.
    const sent = fake.requestsTo('finnhub', '/quote').length;
    expect(sent).toBeGreaterThanOrEqual(BREAKER_THRESHOLD);
    expect(sent).toBeLessThanOrEqual(BREAKER_THRESHOLD + 1);
    expect(job.attemptsMade).toBeGreaterThanOrEqual(2);
    const breaker = createRedisCircuitBreaker(app.deps.redis, circuitBreakerKey(app.prefix, 'finnhub'));
    expect(await breaker.status()).toMatchObject({ state: 'open', failures: sent });
    await runJob(app, 'prices');
    expect(fake.requestsTo('finnhub', '/quote')).toHaveLength(sent);
    // Visible where an operator looks: GraphQL (the page's provider line) and /metrics.
    const { providerStatus } = await graphql<{ providerStatus: Record<string, unknown> }>(
      app,
      '{ providerStatus { name circuit consecutiveFailures nextProbeAt } }',
    );
    expect(providerStatus).toMatchObject({
      name: 'finnhub',
      circuit: 'OPEN',
      consecutiveFailures: sent,
    });
    expect(providerStatus.nextProbeAt).toEqual(expect.any(String));
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toContain('stockstreamer_provider_circuit{provider="finnhub"} 2');
  });

  it('keeps the other symbols’ ticks when one symbol fails', async () => {
    const before = (await storedTicks(app, ['MSFT'])).length;
    newTrades();
    fake.inject({ provider: 'finnhub', path: '/quote', symbol: 'MSFT', kind: 'status', status: 500 });
    const { state, job } = await runJob(app, 'prices');
    expect(state).toBe('completed');
    expect(job.attemptsMade).toBe(1);
    expect(job.returnvalue).toMatchObject({
      fetched: 2,
      stored: 2,
      failed: [{ symbol: 'MSFT', error: 'finnhub: /quote answered HTTP 500: "HTTP 500"' }],
    });
    expect((await storedTicks(app, ['MSFT'])).length).toBe(before);
  });

  it('aborts a request that outlives PROVIDER_TIMEOUT_MS, keeping the others', async () => {
    newTrades();
    fake.inject({ provider: 'finnhub', path: '/quote', symbol: 'NVDA', kind: 'timeout' });
    const { state, job } = await runJob(app, 'prices');
    expect(state).toBe('completed');
    expect(job.returnvalue).toMatchObject({
      stored: 2,
      failed: [{ symbol: 'NVDA', error: 'finnhub: /quote did not answer within 400 ms' }],
    });
  });

  it('waits out slow answers, with at most PROVIDER_CONCURRENCY requests in flight', async () => {
    newTrades();
    fake.reset();
    newTrades();
    fake.inject({ provider: 'finnhub', path: '/quote', kind: 'slow', delayMs: 150, times: 3 });
    const { job } = await runJob(app, 'prices');
    expect(job.returnvalue).toMatchObject({ fetched: 3, stored: 3, failed: [] });
    expect(fake.maxInFlight).toBe(2);
  });

  it.each([
    [
      'an HTML error page',
      { kind: 'html' } as const,
      /^finnhub: \/quote answered HTTP 502: "<!DOCTYPE html> <html><head><title>502 Bad Gateway/,
    ],
    [
      'truncated JSON',
      { kind: 'truncated' } as const,
      /^finnhub: \/quote answered something that is not JSON \(HTTP 200, application\/json\): "\{\\"c\\":/,
    ],
    [
      'a body cut off mid-way',
      { kind: 'drop' } as const,
      /^finnhub: \/quote answer was cut off after 20 bytes \(HTTP 200\): "\{/,
    ],
    ['an empty body', { kind: 'empty' } as const, /^finnhub: \/quote answered an empty body \(HTTP 200\)/],
    [
      'a price as a string',
      { kind: 'json', body: { c: '237.33', t: 1732741200 } } as const,
      /^finnhub: \/quote answered an unusable c \(wanted a number\): "\{\\"c\\":\\"237\.33\\"/,
    ],
    [
      'a negative price',
      { kind: 'json', body: { c: -237.33, t: 1732741200 } } as const,
      /^finnhub: \/quote answered an unusable c \(wanted a price above zero\): /,
    ],
    [
      '"NaN" for a price',
      { kind: 'json', body: { c: 'NaN', t: 1732741200 } } as const,
      /^finnhub: \/quote answered an unusable c \(wanted a number\)/,
    ],
    [
      'no trade time',
      { kind: 'json', body: { c: 237.33, d: 1.2 } } as const,
      /^finnhub: \/quote answered an unusable t \(wanted a Unix time in seconds\)/,
    ],
    [
      'a trade time in milliseconds',
      { kind: 'json', body: { c: 237.33, t: 1732741200000 } } as const,
      /^finnhub: \/quote answered an implausible trade time/,
    ],
  ])(
    'refuses %s with an error naming provider, endpoint and excerpt; stores nothing of it',
    async (_, fault, message) => {
      const before = (await storedTicks(app, ['MSFT'])).length;
      newTrades();
      fake.inject({ provider: 'finnhub', path: '/quote', symbol: 'MSFT', ...fault });
      const { state, job } = await runJob(app, 'prices');
      expect(state).toBe('completed');
      expect(job.returnvalue.stored).toBe(2);
      expect(job.returnvalue.failed).toHaveLength(1);
      expect(job.returnvalue.failed[0].symbol).toBe('MSFT');
      expect(job.returnvalue.failed[0].error).toMatch(message);
      expect(job.returnvalue.failed[0].error).not.toContain('fake-finnhub-key');
      expect((await storedTicks(app, ['MSFT'])).length).toBe(before);
    },
  );

  it('pauses every queue for a 429’s Retry-After, then fetches the rest, spending no attempt', async () => {
    newTrades();
    fake.inject({
      provider: 'finnhub',
      path: '/quote',
      symbol: 'AAPL',
      kind: 'rate-limit',
      retryAfterSeconds: 2,
    });
    const added = await app.workers!.queues.prices.add('prices', {});
    // While paused, the other queues are paused too: the limit is the provider's, not one queue's.
    await waitFor(
      'the 52-week queue to be paused',
      async () => (await app.workers!.queues.highlow.getRateLimitTtl(1000)) > 0,
    );
    const job = await waitFor('the rate-limited job to finish', async () =>
      (await app.workers!.queues.prices.getJobState(added.id!)) === 'completed'
        ? app.workers!.queues.prices.getJob(added.id!)
        : undefined,
    );
    expect(job!.attemptsMade).toBe(1);
    expect(job!.attemptsStarted).toBe(2);
    expect(job!.returnvalue).toMatchObject({ fetched: 3, stored: 3, failed: [] });
    const aapl = fake.requestsTo('finnhub', '/quote').filter((r) => r.symbols[0] === 'AAPL');
    expect(aapl.map((r) => r.outcome)).toEqual(['rate-limit', 'ok']);
    expect(aapl[1]!.at - aapl[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('honours a reset time (X-RateLimit-Reset) the same way', async () => {
    newTrades();
    fake.inject({
      provider: 'finnhub',
      path: '/quote',
      kind: 'rate-limit',
      retryAfterSeconds: 1,
      header: 'reset',
      times: 2,
    });
    const { state, job } = await runJob(app, 'prices');
    expect(state).toBe('completed');
    expect(job.attemptsMade).toBe(1);
    expect(job.returnvalue).toMatchObject({ stored: 3, failed: [] });
  });

  it('marks an unknown symbol on the watchlist with the reason, keeps the others, and stops asking for it', async () => {
    await app.deps.watchlist.seed(['ZZZZ']);
    newTrades();
    const { state, job } = await runJob(app, 'prices');
    expect(state).toBe('completed');
    expect(job.attemptsMade).toBe(1);
    expect(job.returnvalue).toMatchObject({
      stored: 3,
      failed: [{ symbol: 'ZZZZ', error: 'finnhub: unknown symbol ZZZZ (/quote answered all zeros)' }],
    });
    const zzzz = (await watchlist(app)).find((s) => s.ticker === 'ZZZZ')!;
    expect(zzzz.unknownReason).toBe('finnhub: unknown symbol ZZZZ (/quote answered all zeros)');
    expect(Date.parse(zzzz.unknownSince!)).not.toBeNaN();

    fake.requests.length = 0;
    newTrades();
    await runJob(app, 'prices');
    expect(
      fake
        .requestsTo('finnhub', '/quote')
        .flatMap((r) => r.symbols)
        .sort(),
    ).toEqual(TICKERS.toSorted());

    // A job asked for nothing but the unknown symbol fails at once, without retry.
    const alone = await runJob(app, 'prices', { pending: ['ZZZZ'] });
    expect(alone.state).toBe('failed');
    expect(alone.job.attemptsMade).toBe(1);
    expect(alone.job.failedReason).toBe('finnhub: unknown symbol ZZZZ (/quote answered all zeros)');

    // Once the provider knows it (a listing), the slow 52-week check clears the mark and prices resume.
    fake.market.set('ZZZZ', { price: 10, time: new Date(tradeTime), name: 'Zeta', high52: 12, low52: 8 });
    await runJob(app, 'highlow');
    expect((await watchlist(app)).find((s) => s.ticker === 'ZZZZ')!.unknownReason).toBeNull();
    const resumed = await runJob(app, 'prices');
    expect(resumed.job.returnvalue).toMatchObject({ fetched: 4, failed: [] });
    await app.deps.database.pool.query("update symbols set enabled = false where ticker = 'ZZZZ'");
  });

  it('derives the 52-week range from stored prices when the provider has none', async () => {
    fake.inject({
      provider: 'finnhub',
      path: '/stock/metric',
      symbol: 'MSFT',
      kind: 'json',
      body: { metric: {}, metricType: 'all', series: {}, symbol: 'MSFT' },
    });
    const { state, job } = await runJob(app, 'highlow');
    expect(state).toBe('completed');
    expect(job.returnvalue).toMatchObject({ requested: 3, saved: 3, fromFallback: 1, failed: [] });
    const prices = (await storedTicks(app, ['MSFT'])).map((t) => t.price);
    const msft = (await watchlist(app)).find((s) => s.ticker === 'MSFT')!;
    expect(msft.high52Week).toBe(Math.max(...prices));
    expect(msft.low52Week).toBe(Math.min(...prices));
    expect(msft.high52Week).not.toBe(fake.market.get('MSFT')!.high52);
  });
});

describe('configuration the provider refuses', () => {
  /** Starts the app as `stockstreamer start` does and returns why it would not start. */
  async function startFailure(env: Record<string, string>): Promise<string> {
    const database = await createTestDatabase({ migrate: false });
    const prefix = uniqueName('q');
    try {
      const config = loadConfig(testEnv(database.url, prefix, env));
      const running = await startRole('start', config, { logger: silentLogger });
      await running.close();
      return 'started';
    } catch (error) {
      return (error as Error).message;
    } finally {
      await removeRedisPrefix(prefix);
      await database.drop();
    }
  }

  it('a refused key stops start-up with one line, after one request', async () => {
    fake.reset();
    const message = await startFailure(
      fake.env('finnhub', { SYMBOLS: 'AAPL,MSFT', FINNHUB_API_KEY: 'not-the-right-key' }),
    );
    expect(message).toBe(
      'finnhub refused the key or the plan, so nothing was started: finnhub: /quote refused the request (HTTP 401): "{\\"error\\":\\"Invalid API key\\"}"',
    );
    expect(fake.requestsTo('finnhub')).toHaveLength(1);
  });

  it('a wrong base URL stops start-up in one line naming the variable', async () => {
    fake.reset();
    const message = await startFailure(
      fake.env('polygon', { SYMBOLS: 'AAPL,MSFT', POLYGON_BASE_URL: `${fake.url}/polygon/v9` }),
    );
    expect(message).toMatch(
      /^polygon is not where the base URL points, so nothing was started: polygon: \/v2\/snapshot\/locale\/us\/markets\/stocks\/tickers is not there: .* answered HTTP 404 "404 page not found"; is POLYGON_BASE_URL=.*\/polygon\/v9 right\?$/,
    );
  });

  it('a key refused while running fails the job at once: retrying cannot fix a key', async () => {
    fake.reset();
    const app = await startTestApp({
      env: fake.env('finnhub', { SYMBOLS: 'AAPL', PROVIDER_BUDGET: 'off' }),
    });
    try {
      await settle(app);
      fake.inject({ provider: 'finnhub', kind: 'status', status: 401, body: '{"error":"Invalid API key"}' });
      const { state, job } = await runJob(app, 'prices');
      expect(state).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toBe(
        'finnhub: /quote refused the request (HTTP 401): "{\\"error\\":\\"Invalid API key\\"}"',
      );
    } finally {
      await app.stop();
    }
  });
});

describe('in-body rate limits (HTTP 200)', () => {
  it.each([
    ['Alpha Vantage’s "Note"', 'note'],
    ['Alpha Vantage’s "Information"', 'information'],
  ])(
    '%s pauses the queues until the stated window is over, then fetches, spending no attempt',
    async (_, variant) => {
      fake.reset();
      const app = await startTestApp({
        env: fake.env('alphavantage', { SYMBOLS: TICKERS.join(','), PROVIDER_BUDGET: 'off' }),
        start: justBeforeAMinute(),
      });
      try {
        await settle(app);
        fake.requests.length = 0;
        app.clock.advance(1000);
        fake.inject({ provider: 'alphavantage', path: '/query', kind: 'rate-limit', variant });
        const { state, job } = await runJob(app, 'prices');
        expect(state).toBe('completed');
        expect(job.attemptsMade).toBe(1);
        expect(job.attemptsStarted).toBe(2);
        expect(job.returnvalue).toMatchObject({ fetched: 3, stored: 3, failed: [] });
        const sent = fake.requestsTo('alphavantage', '/query');
        expect(sent[0]!.outcome).toBe('rate-limit');
        // One symbol at a time: after the limit nothing more was sent until the window was over: the next
        // minute by the app's clock (0.5 s away), plus a second for clock skew.
        expect(sent.map((r) => r.symbols[0])).toEqual(['AAPL', 'AAPL', 'MSFT', 'NVDA']);
        expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(1500);
      } finally {
        await app.stop();
      }
    },
  );

  it('Twelve Data’s {"status":"error","code":429} pauses until the next minute, spending no attempt', async () => {
    fake.reset();
    const app = await startTestApp({
      env: fake.env('twelvedata', { SYMBOLS: TICKERS.join(','), PROVIDER_BUDGET: 'off' }),
      start: justBeforeAMinute(),
    });
    try {
      await settle(app);
      fake.requests.length = 0;
      newTrades();
      fake.inject({ provider: 'twelvedata', path: '/quote', kind: 'rate-limit' });
      const { state, job } = await runJob(app, 'prices');
      expect(state).toBe('completed');
      expect(job.attemptsMade).toBe(1);
      expect(job.returnvalue).toMatchObject({ fetched: 3, stored: 3, failed: [] });
      const sent = fake.requestsTo('twelvedata', '/quote');
      // One batch request for all three symbols, refused, then the same batch after the window.
      expect(sent.map((r) => [r.symbols.join(','), r.outcome])).toEqual([
        ['AAPL,MSFT,NVDA', 'rate-limit'],
        ['AAPL,MSFT,NVDA', 'ok'],
      ]);
      expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(2000);

      // A batch answered with garbage costs that request, not the tickers: they are asked again in
      // halves, in the same attempt, and nothing of the garbage is stored.
      const before = (await storedTicks(app, TICKERS)).length;
      fake.requests.length = 0;
      newTrades();
      fake.inject({ provider: 'twelvedata', path: '/quote', kind: 'html' });
      const split = await runJob(app, 'prices');
      expect(split.job.attemptsMade).toBe(1);
      expect(fake.requestsTo('twelvedata', '/quote').map((r) => [r.symbols.join(','), r.outcome])).toEqual([
        ['AAPL,MSFT,NVDA', 'html'],
        ['AAPL,MSFT', 'ok'],
        ['NVDA', 'ok'],
      ]);
      expect((await storedTicks(app, TICKERS)).length).toBe(before + 3);

      // A 5xx for one ticker, every time it is asked: only that ticker goes without.
      newTrades();
      fake.inject({
        provider: 'twelvedata',
        path: '/quote',
        symbol: 'MSFT',
        kind: 'status',
        status: 500,
        times: 10,
      });
      const isolated = await runJob(app, 'prices');
      expect(isolated.job.returnvalue).toMatchObject({ fetched: 2, stored: 2, failed: [{ symbol: 'MSFT' }] });
      fake.clearFaults();

      // A symbol Twelve Data does not know answers its own error object inside the batch.
      const notFound = JSON.parse(
        readFileSync(new URL('../fixtures/providers/twelvedata/error-404.json', import.meta.url), 'utf8'),
      );
      expect(notFound).toMatchObject({ status: 'error', code: 404 });
      await app.deps.watchlist.seed(['ZZZZ']);
      newTrades();
      const unknown = await runJob(app, 'prices');
      expect(unknown.job.returnvalue).toMatchObject({ stored: 3, failed: [{ symbol: 'ZZZZ' }] });
      expect((await watchlist(app)).find((s) => s.ticker === 'ZZZZ')!.unknownReason).toMatch(
        /^twelvedata: unknown symbol ZZZZ \(\/quote answered code 404: "\*\*symbol\*\* not found: ZZZZ/,
      );
    } finally {
      await app.stop();
    }
  });
});
