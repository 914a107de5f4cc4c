import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordPlan } from '../../src/providers/provider-status.ts';
import type { RequestPlan } from '../../src/providers/request-plan.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DEFAULT_TRADE_TIME, type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { graphql, runJob, settle } from '../helpers/provider-app.ts';

/**
 * A provider that refuses the key (HTTP 401) used to leave everything saying all is well: the page LIVE,
 * /healthz 200 "ok", no metric of the last good price's age, and a WARN every interval in the log. Here a
 * real app (Redis, Postgres, BullMQ, Yoga) fetches from the local fake upstream through its finnhub client.
 */
const TICKERS = ['AAPL', 'MSFT'];
const HOUR = 3_600_000;

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
}

const STATUS =
  '{ status { staleAfterSeconds freshness { state lastOutcome reason ageSeconds lastGoodAt } } }';
const STOCKS = '{ watchlist { ticker freshness { state lastOutcome reason } } }';

describe('freshness with a provider that refuses the key', () => {
  let fake: FakeUpstream;
  let app: TestApp;
  const lines: LogLine[] = [];
  let tradeTime = DEFAULT_TRADE_TIME.getTime();
  const newTrades = () => {
    tradeTime += 60_000;
    for (const symbol of TICKERS)
      fake.setQuote(symbol, fake.market.get(symbol)!.price + 0.01, new Date(tradeTime));
  };

  beforeAll(async () => {
    fake = await startFakeUpstream();
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    app = await startTestApp({
      env: fake.env('finnhub', { SYMBOLS: TICKERS.join(','), PROVIDER_BUDGET: 'off' }),
      logger: pino({ level: 'info' }, sink),
    });
    await settle(app);
  });
  afterAll(async () => {
    await app?.stop();
    await fake?.close();
  });

  const warnings = () => lines.filter((l) => l.level >= 40);

  it('is LIVE after a good fetch', async () => {
    const { status } = await graphql<{ status: { freshness: { state: string; ageSeconds: number } } }>(
      app,
      STATUS,
    );
    expect(status.freshness.state).toBe('LIVE');
    expect(status.freshness.ageSeconds).toBe(0);
    expect(warnings()).toEqual([]);
  });

  it('says PROVIDER_ERROR with the reason and the age, /healthz degraded, one log line for the fault', async () => {
    fake.inject({ provider: 'finnhub', kind: 'status', status: 401, times: Number.POSITIVE_INFINITY });
    // Four intervals without a good price, one failed job each: past the three that make it stale.
    for (let i = 0; i < 4; i++) {
      app.clock.advance(HOUR);
      expect((await runJob(app, 'prices')).state).toBe('failed');
    }
    const { status } = await graphql<{
      status: { freshness: { state: string; lastOutcome: string; reason: string; ageSeconds: number } };
    }>(app, STATUS);
    expect(status.freshness).toMatchObject({ state: 'PROVIDER_ERROR', lastOutcome: 'PROVIDER_ERROR' });
    expect(status.freshness.reason).toMatch(/^no good price for 4 h 0 min: finnhub: .*HTTP 401/);
    expect(status.freshness.ageSeconds).toBe(4 * 3600);

    const { watchlist } = await graphql<{ watchlist: { ticker: string; freshness: { state: string } }[] }>(
      app,
      STOCKS,
    );
    expect(watchlist.map((s) => [s.ticker, s.freshness.state])).toEqual(
      TICKERS.map((t) => [t, 'PROVIDER_ERROR']),
    );

    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    const report = (await health.json()) as { status: string; reason: string; prices: { state: string } };
    expect(report.status).toBe('degraded');
    expect(report.reason).toMatch(/^prices provider error: no good price for 4 h 0 min: finnhub: .*HTTP 401/);
    expect(report.prices.state).toBe('provider_error');

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^stockstreamer_price_feed_live 0$/m);
    expect(metrics).toMatch(/^stockstreamer_price_age_seconds 14400$/m);
    expect(metrics).toMatch(/^stockstreamer_ticker_last_fetch_ok\{ticker="AAPL"\} 0$/m);

    // Four failed jobs, one line: when the fault began, with the provider's reason.
    expect(warnings().map((l) => l.msg)).toEqual(['price feed: fault began']);
    expect(warnings()[0]!.reason).toMatch(/HTTP 401/);
  });

  it('is LIVE again when the provider answers, and says once that the fault ended', async () => {
    fake.clearFaults();
    newTrades();
    app.clock.advance(HOUR);
    expect((await runJob(app, 'prices')).state).toBe('completed');
    const { status } = await graphql<{ status: { freshness: { state: string; reason: string | null } } }>(
      app,
      STATUS,
    );
    expect(status.freshness).toMatchObject({ state: 'LIVE', reason: null });
    const health = (await (await fetch(`${app.url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const ended = lines.filter((l) => l.msg.startsWith('price feed') && l.msg.includes('ended'));
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ faultSeconds: 4 * 3600 });
  });

  it('expects prices at the cadence the provider plan allows, not at PRICE_INTERVAL_MS alone', async () => {
    // Four hours after the last good price: stale at this app's hourly PRICE_INTERVAL_MS (3 intervals) ...
    app.clock.advance(4 * HOUR);
    const read = async () =>
      (await graphql<{ status: { staleAfterSeconds: number; freshness: { state: string } } }>(app, STATUS))
        .status;
    expect(await read()).toMatchObject({ staleAfterSeconds: 10_800, freshness: { state: 'STALE' } });
    // ... but on time for a provider plan that gives each ticker a price every two hours.
    await recordPlan(app.deps.redis, app.prefix, {
      summary: 'a small plan',
      priceEveryMs: 2 * HOUR,
    } as RequestPlan);
    expect(await read()).toMatchObject({ staleAfterSeconds: 21_600, freshness: { state: 'LIVE' } });
    const health = (await (await fetch(`${app.url}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
  });
});
