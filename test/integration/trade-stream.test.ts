import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { graphql, storedTicks, waitFor } from '../helpers/provider-app.ts';

/**
 * Finnhub's trade stream, against the fake upstream's WebSocket in the documented shapes: with the stream
 * up, every price slot stores the trades it saw without one REST price request; when it drops, prices
 * come over REST; it reconnects, subscribes again, and the page's status says which.
 */
const TICKERS = ['AAPL', 'MSFT', 'NVDA'];
let fake: FakeUpstream;
let app: TestApp;

async function streamState(): Promise<string> {
  const data = await graphql<{ providerStatus: { stream: string } }>(app, '{ providerStatus { stream } }');
  return data.providerStatus.stream;
}

/** Sends one streamed trade per ticker at `at` and waits until all are stored. */
async function streamedRound(price: number, at: Date): Promise<void> {
  for (const ticker of TICKERS) fake.stream.trade(ticker, price, at);
  await waitFor(`streamed trades at ${at.toISOString()} to be stored`, async () => {
    const stored = await storedTicks(app, TICKERS);
    return TICKERS.every((ticker) => stored.some((t) => t.ticker === ticker && t.time === at.toISOString()));
  });
}

beforeAll(async () => {
  fake = await startFakeUpstream();
  app = await startTestApp({
    env: fake.env('finnhub', {
      SYMBOLS: TICKERS.join(','),
      FINNHUB_STREAM_URL: fake.stream.url,
      PRICE_INTERVAL_MS: '500',
      PROVIDER_BUDGET: '600/min',
    }),
  });
  await waitFor('the stream to connect', async () => (await streamState()) === 'CONNECTED');
});
afterAll(async () => {
  await app?.stop();
  await fake?.close();
});

describe('prices from the trade stream', () => {
  it('subscribes every ticker, and stores each slot’s trades with no REST price request', async () => {
    expect([...fake.stream.subscriptions].sort()).toEqual([...TICKERS].sort());
    // A price job that began before the stream was up rightly asked REST; once a streamed round is stored,
    // a job that saw the stream has run, and from then on "no REST request" is the stream's doing.
    await streamedRound(99, new Date(Date.now() - 90_000));
    fake.requests.length = 0;
    const base = Date.now() - 60_000;
    for (let round = 1; round <= 4; round++) await streamedRound(100 + round, new Date(base + round * 1000));
    expect(fake.requestsTo('finnhub', '/quote')).toEqual([]);
  });

  it('falls back to REST while the stream is down, then reconnects and subscribes again', async () => {
    fake.stream.refuse = true;
    fake.stream.drop();
    await waitFor('the stream to be down', async () => (await streamState()) !== 'CONNECTED');
    // Finnhub's REST quote has whole seconds.
    const restTime = new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000);
    for (const ticker of TICKERS) fake.setQuote(ticker, 50, restTime);
    await waitFor('prices over REST', async () => {
      const stored = await storedTicks(app, TICKERS);
      return TICKERS.every((ticker) =>
        stored.some((t) => t.ticker === ticker && t.time === restTime.toISOString()),
      );
    });
    expect(fake.requestsTo('finnhub', '/quote').length).toBeGreaterThan(0);

    const subscribedBefore = fake.stream.subscriptions.length;
    fake.stream.refuse = false;
    await waitFor('the stream to reconnect', async () => (await streamState()) === 'CONNECTED', 60_000);
    expect(fake.stream.subscriptions.slice(subscribedBefore).sort()).toEqual([...TICKERS].sort());
    // A price job that began while the stream was down rightly asks REST, and its request may land after
    // the reconnection (slots are 500 ms and overlap). Once a round of streamed trades is stored, a job
    // that saw the stream up has run; only then is "no REST request" the stream's doing.
    await streamedRound(76, new Date(Date.now() - 12_000));
    fake.requests.length = 0;
    await streamedRound(77, new Date(Date.now() - 10_000));
    expect(fake.requestsTo('finnhub', '/quote')).toEqual([]);
  });
});
