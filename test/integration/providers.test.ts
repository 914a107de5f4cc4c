import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  DEFAULT_TRADE_TIME,
  type FakeProvider,
  type FakeUpstream,
  startFakeUpstream,
} from '../helpers/fake-upstream.ts';
import { runJob, settle, storedTicks, watchlist } from '../helpers/provider-app.ts';

/**
 * Every live provider, end to end: the real worker path (BullMQ on real Redis, the provider file, its HTTP
 * client) against the fake upstream, into a real Postgres, read back through GraphQL.
 */
const TICKERS = ['AAPL', 'MSFT', 'NVDA'];

/**
 * What each provider's logo becomes: its image, downloaded by the worker and served from the app's origin
 * at /logos/{T}, or the app's monogram when the provider has none.
 */
const LOGO: Record<FakeProvider, (ticker: string) => RegExp> = {
  finnhub: (t) => new RegExp(`^/logos/${t}$`),
  twelvedata: (t) => new RegExp(`^/logos/${t}$`),
  alphavantage: (t) => new RegExp(`^/logos/${t}\\.svg$`),
  yahoo: (t) => new RegExp(`^/logos/${t}\\.svg$`),
  polygon: (t) => new RegExp(`^/logos/${t}$`),
};
const LOGO_TYPE: Record<FakeProvider, string> = {
  finnhub: 'image/png',
  twelvedata: 'image/png',
  alphavantage: 'image/svg+xml',
  yahoo: 'image/svg+xml',
  polygon: 'image/svg+xml',
};

let fake: FakeUpstream;
beforeAll(async () => {
  fake = await startFakeUpstream();
});
afterAll(() => fake?.close());

describe.each(['finnhub', 'twelvedata', 'alphavantage', 'yahoo', 'polygon'] as const)(
  '%s through the worker path into Postgres',
  (provider) => {
    let app: TestApp;

    beforeAll(async () => {
      fake.reset();
      app = await startTestApp({
        env: fake.env(provider, { SYMBOLS: TICKERS.join(','), PROVIDER_BUDGET: 'off' }),
      });
      await settle(app);
    });
    afterAll(() => app?.stop());

    it('fills in names, logos and 52-week ranges at start', async () => {
      const stocks = await watchlist(app);
      expect(stocks.map((s) => s.ticker)).toEqual(TICKERS);
      for (const stock of stocks) {
        const listing = fake.market.get(stock.ticker)!;
        expect(stock.companyName).toBe(listing.name);
        expect(stock.logoUrl).toMatch(LOGO[provider](stock.ticker));
        expect(stock.high52Week).toBe(listing.high52);
        expect(stock.low52Week).toBe(listing.low52);
        expect(stock.unknownReason).toBeNull();
      }
      const logo = await fetch(`${app.url}${stocks[0]!.logoUrl}`);
      expect(logo.status).toBe(200);
      expect(logo.headers.get('content-type')).toBe(LOGO_TYPE[provider]);
      if (provider === 'polygon') {
        // The logo image was fetched with the key, server-side; what the page loads does not carry it.
        const svg = await logo.text();
        expect(svg).toContain('<circle');
        expect(svg).not.toContain('fake-polygon-key');
      }
    });

    it('stores each quote with the provider’s trade time, and an unchanged quote only once', async () => {
      // The start-up tick already stored this observation.
      const first = await storedTicks(app, TICKERS);
      expect(first).toHaveLength(TICKERS.length);
      const expectedTime =
        provider === 'alphavantage'
          ? // No trade time from Alpha Vantage: the fetch time, to the second.
            new Date(Math.floor(app.clock.now().getTime() / 1000) * 1000).toISOString()
          : DEFAULT_TRADE_TIME.toISOString();
      for (const tick of first) {
        expect(tick).toEqual({
          ticker: tick.ticker,
          price: fake.market.get(tick.ticker)!.price,
          time: expectedTime,
        });
      }

      // Outside market hours nothing moves: the same trade comes back and is not stored again.
      const again = await runJob(app, 'prices');
      expect(again.state).toBe('completed');
      expect(again.job.returnvalue).toMatchObject({ fetched: 3, stored: 0, failed: [] });

      // A new trade is a new row.
      const later = new Date(DEFAULT_TRADE_TIME.getTime() + 60_000);
      fake.setQuote('AAPL', 238.04, later);
      app.clock.advance(60_000);
      const moved = await runJob(app, 'prices');
      expect(moved.job.returnvalue).toMatchObject({
        fetched: 3,
        stored: provider === 'alphavantage' ? 3 : 1,
      });
      const aapl = (await storedTicks(app, ['AAPL'])).at(-1)!;
      expect(aapl.price).toBe(238.04);
      if (provider !== 'alphavantage') expect(aapl.time).toBe(later.toISOString());
    });

    it('marks a symbol the provider does not know, without retry, and still stores the others', async () => {
      await app.deps.watchlist.seed(['ZZZZ']);
      const later = new Date(DEFAULT_TRADE_TIME.getTime() + 120_000);
      for (const ticker of TICKERS) fake.setQuote(ticker, fake.market.get(ticker)!.price + 1, later);
      app.clock.advance(60_000);
      const { state, job } = await runJob(app, 'prices');
      expect(state).toBe('completed');
      expect(job.attemptsMade).toBe(1);
      expect(job.returnvalue).toMatchObject({ fetched: 3, stored: 3, failed: [{ symbol: 'ZZZZ' }] });
      const zzzz = (await watchlist(app)).find((s) => s.ticker === 'ZZZZ')!;
      expect(zzzz.unknownReason).toMatch(new RegExp(`^${provider}: unknown symbol ZZZZ \\(.+\\)$`));
    });

    it('sends the key the way the provider takes it, and never in a logged URL', () => {
      const sent = fake.requestsTo(provider);
      expect(sent.length).toBeGreaterThan(0);
      for (const request of sent) {
        if (provider === 'alphavantage') expect(request.query.apikey).toBe('fake-alphavantage-key');
        else expect(JSON.stringify(request.query)).not.toContain('fake-');
      }
    });
  },
);
