import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../jobs/queues.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { readSse } from '../helpers/sse.ts';

const TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'];

describe('the pipeline, end to end on real Redis, Postgres, BullMQ and Yoga', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.stop());

  const runPriceJob = (data: object = {}) => app.runPriceJob(data);

  async function graphql<T>(query: string, variables?: object): Promise<T> {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data: T; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  it('upserts one scheduler per queue at worker start', async () => {
    for (const name of QUEUE_NAMES) {
      const schedulers = await app.workers!.queues[name].getJobSchedulers();
      expect(schedulers.map((s) => s.every)).toEqual([3_600_000]);
    }
  });

  it('stores a price job’s ticks and streams them to a GraphQL subscriber over Redis pub/sub', async () => {
    const stream = readSse(`${app.url}/graphql`, 'subscription { ticks { ticker price time } }');
    await stream.ready;
    // The scheduler's first run may already have stored this second's quotes; step the clock to a new one.
    app.clock.advance(5000);
    const result = await runPriceJob();
    expect(result).toMatchObject({ fetched: 6, stored: 6 });

    const event = (await stream.next()) as {
      data: { ticks: { ticker: string; price: number; time: string }[] };
    };
    stream.close();
    const streamed = event.data.ticks;
    expect(streamed.map((t) => t.ticker).sort()).toEqual([...TICKERS].sort());
    expect(new Set(streamed.map((t) => t.time))).toEqual(new Set([app.clock.now().toISOString()]));

    const { quotes } = await app.deps.provider.getQuotes(TICKERS).then((r) => ({ quotes: r.ok }));
    for (const tick of streamed) {
      expect(tick.price).toBe(quotes.find((q) => q.symbol === tick.ticker)!.price);
    }
  });

  it('never doubles a row: the same observation written twice is stored once', async () => {
    app.clock.advance(5000);
    const before = await app.deps.ticks.countTicks();
    expect(await runPriceJob()).toMatchObject({ fetched: 6, stored: 6 });
    // Same clock second: the simulated provider returns the same observation, and the key drops it.
    expect(await runPriceJob()).toMatchObject({ fetched: 6, stored: 0 });
    // A retried job carries its fetched quotes and writes them again: still no new rows.
    const quotes = (await app.deps.provider.getQuotes(['AAPL'])).ok.map((q) => ({
      ticker: q.symbol,
      price: q.price,
      time: q.time.toISOString(),
    }));
    expect(await runPriceJob({ quotes })).toMatchObject({ fetched: 1, stored: 0 });
    expect(await app.deps.ticks.countTicks()).toBe(before + 6);
  });

  it('a rerun publishes its whole batch: ticks stored by an attempt that died before publishing still arrive', async () => {
    app.clock.advance(5000);
    const quote = (await app.deps.provider.getQuotes(['AAPL'])).ok[0]!;
    const tick = { ticker: 'AAPL', price: quote.price, time: quote.time };
    // The first attempt stored the quote, then its process died before the publish.
    expect(await app.deps.ticks.insertTicks([tick])).toHaveLength(1);
    const stream = readSse(
      `${app.url}/graphql`,
      'subscription { ticks(tickers: ["AAPL"]) { ticker price time } }',
    );
    await stream.ready;
    const quotes = [{ ticker: 'AAPL', price: quote.price, time: quote.time.toISOString() }];
    expect(await runPriceJob({ quotes })).toMatchObject({ fetched: 1, stored: 0 });
    const event = (await stream.next()) as {
      data: { ticks: { ticker: string; price: number; time: string }[] };
    };
    stream.close();
    expect(event.data.ticks).toEqual(quotes.map((q) => ({ ticker: q.ticker, price: q.price, time: q.time })));
  });

  it('filters the subscription by ticker', async () => {
    const stream = readSse(
      `${app.url}/graphql`,
      'subscription { ticks(tickers: ["aapl", "NFLX"]) { ticker } }',
    );
    await stream.ready;
    app.clock.advance(5000);
    await runPriceJob();
    const event = (await stream.next()) as { data: { ticks: { ticker: string }[] } };
    stream.close();
    expect(event.data.ticks.map((t) => t.ticker).sort()).toEqual(['AAPL', 'NFLX']);
  });

  it('answers the watchlist with names, logos and 52-week ranges fetched at start', async () => {
    // Logos and ranges are queued once at start when missing; wait for them rather than for 83 minutes.
    let list: {
      ticker: string;
      companyName: string;
      logoUrl: string;
      high52Week: number;
      low52Week: number;
    }[] = [];
    for (let i = 0; i < 100; i++) {
      list = (
        await graphql<{ watchlist: typeof list }>(
          '{ watchlist { ticker companyName logoUrl high52Week low52Week latestPrice latestTime } }',
        )
      ).watchlist;
      if (list.every((s) => s.logoUrl && s.high52Week)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(list.map((s) => s.ticker)).toEqual(TICKERS);
    for (const stock of list) {
      expect(stock.companyName).toBeTruthy();
      expect(stock.logoUrl).toBe(`/logos/${stock.ticker}.svg`);
      expect(stock.low52Week).toBeLessThan(stock.high52Week);
    }
    const logo = await fetch(`${app.url}${list[0]!.logoUrl}`);
    expect(logo.headers.get('content-type')).toBe('image/svg+xml');
    expect(await logo.text()).toContain('<svg');
  });

  it('serves price history as columnar series', async () => {
    const data = await graphql<{ priceHistory: { ticker: string; times: number[]; prices: number[] }[] }>(
      'query($from: DateTime) { priceHistory(tickers: ["AAPL", "GE"], from: $from) { ticker times prices } }',
      { from: new Date(app.clock.now().getTime() - 3_600_000).toISOString() },
    );
    expect(data.priceHistory.map((s) => s.ticker)).toEqual(['AAPL', 'GE']);
    for (const series of data.priceHistory) {
      expect(series.times.length).toBeGreaterThanOrEqual(3);
      expect(series.times.length).toBe(series.prices.length);
      expect([...series.times].sort((a, b) => a - b)).toEqual(series.times);
    }
  });

  it('shows a late tick in a wide window at once, though the window’s closed columns are cached', async () => {
    const now = app.clock.now().getTime();
    const from = new Date(now - 2 * 86_400_000).toISOString();
    // Two days of AAPL a minute apart, written as a backfill would be (no job, nothing published).
    const backfill = Array.from({ length: 2 * 1440 }, (_, i) => ({
      ticker: 'AAPL',
      price: 150 + (i % 7),
      time: new Date(now - 2 * 86_400_000 + i * 60_000 + 30_000),
    }));
    await app.deps.ticks.insertTicks(backfill);
    const prices = async () =>
      (
        await graphql<{ priceHistory: { prices: number[] }[] }>(
          'query($from: DateTime) { priceHistory(tickers: ["AAPL"], from: $from, width: 1200) { prices } }',
          { from },
        )
      ).priceHistory[0]!.prices;
    const before = await prices();
    expect(before).toContain(156);
    expect(before).not.toContain(999.5);
    // A retried price job writes the quote it fetched a day ago (after an outage): a new high.
    const late = { ticker: 'AAPL', price: 999.5, time: new Date(now - 86_400_000 + 1_000).toISOString() };
    expect(await runPriceJob({ quotes: [late] })).toMatchObject({ stored: 1 });
    await expect.poll(prices, { timeout: 5_000 }).toContain(999.5);
  });

  it.each([
    ['{ priceHistory(tickers: ["DROP TABLE"]) { ticker } }', /tickers: .*is not a ticker/],
    [
      '{ priceHistory(from: "2026-11-30T00:00:00Z", to: "2026-11-01T00:00:00Z") { ticker } }',
      /from: must not be after to/,
    ],
    ['{ priceHistory(from: "yesterday") { ticker } }', /DateTime wants an ISO-8601 instant/],
    ['{ priceHistory(from: "2020-01-01T00:00:00Z") { ticker } }', /at most 366 days/],
  ])('rejects bad arguments with a clear error: %s', async (query, message) => {
    const before = await app.deps.ticks.countTicks();
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toMatch(message);
    expect(await app.deps.ticks.countTicks()).toBe(before);
  });

  it('serves GraphiQL without any outside script', async () => {
    const response = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('stockstreamer GraphiQL');
    expect(html).not.toMatch(/<script[^>]+src="https?:\/\//);
    // A small page: the 9 MB of GraphiQL's code are files of the build, cached and compressed once.
    expect(html.length).toBeLessThan(8_000);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    for (const file of ['/graphiql/graphiql.js', '/graphiql/start.js', '/graphiql/worker-graphql.js']) {
      const asset = await fetch(`${app.url}${file}`, { headers: { 'accept-encoding': 'br' } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-encoding')).toBe('br');
    }
  });

  it('shows the four pipeline queues, maintenance and the two alert queues in Bull Board', async () => {
    const response = await fetch(`${app.url}/admin/queues/api/queues`);
    const body = (await response.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual([
      'alert-deliveries',
      'alerts',
      'highlow',
      'history',
      'logos',
      'maintenance',
      'prices',
    ]);
    const page = await fetch(`${app.url}/admin/queues`);
    expect(await page.text()).not.toContain('fonts.googleapis.com');
  });

  it('serves Prometheus metrics to an admin', async () => {
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('stockstreamer_up{backend="postgres"} 1');
    expect(text).toMatch(/stockstreamer_jobs\{queue="prices",state="completed"\} [1-9]/);
    expect(text).toContain('# TYPE stockstreamer_subscribers gauge');
    expect(text).toMatch(/^stockstreamer_rollup_log_rows \d+$/m);
    // The retained days and the week made ahead (RETAIN_TICKS_DAYS=30 by default).
    expect(text).toMatch(/^stockstreamer_raw_partitions (3[89]|[4-9]\d)$/m);
    expect(text).toMatch(/^stockstreamer_raw_oldest_day_seconds \d/m);
    expect(text).toMatch(/^stockstreamer_rollup_log_oldest_age_seconds \d/m);
  });

  it('reports healthy backends and live prices', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      postgres: true,
      redis: true,
      prices: { state: 'live' },
    });
  });
});
