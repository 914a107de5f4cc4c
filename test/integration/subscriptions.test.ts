import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ticksChannel } from '../../src/tick-channel.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';

/** Opens a raw SSE subscription and collects the stream's text as it arrives. */
async function openStream(url: string, query: string, path = '/graphql') {
  const controller = new AbortController();
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  });
  let text = '';
  let ended = false;
  const done = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
      ended = true;
    } catch {
      // aborted by the test
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text: () => text,
    ended: () => ended,
    done,
    close: () => controller.abort(),
  };
}

async function until(condition: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('subscriptions over SSE, served in cohorts', () => {
  let app: TestApp;
  let redis: Redis;
  const subscribers = async () => {
    const [, count] = (await redis.pubsub('NUMSUB', ticksChannel(app.prefix))) as [string, number];
    return Number(count);
  };

  beforeAll(async () => {
    app = await startTestApp({
      env: { MAX_SUBSCRIPTIONS_PER_CLIENT: '1000', ALLOWED_ORIGINS: 'https://dashboard.example' },
    });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await app?.stop();
  });

  /** Whether /metrics shows exactly this many open subscriptions and cohorts. */
  const subscriptionGauges = async (subscriptions: number, cohorts: number) => {
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    return (
      new RegExp(`^stockstreamer_subscribers ${subscriptions}$`, 'm').test(metrics) &&
      new RegExp(`^stockstreamer_subscription_cohorts ${cohorts}$`, 'm').test(metrics)
    );
  };

  it('sends the same bytes to every subscriber of one query, from one Redis subscription', async () => {
    // The scheduler's first price job runs at start; let it finish so only our tick reaches the streams.
    await until(
      async () => ((await app.workers!.queues.prices.getJobCounts('completed')).completed ?? 0) >= 1,
      'the first scheduled price job',
    );
    const all = 'subscription { ticks { ticker price time } }';
    const aapl = 'subscription { ticks(tickers: ["AAPL"]) { ticker price } }';
    const streams = await Promise.all([
      ...Array.from({ length: 30 }, () => openStream(app.url!, all)),
      // The same operation written differently still joins the same cohort.
      openStream(app.url!, 'subscription{ticks{ticker price time}}'),
      openStream(app.url!, aapl),
      openStream(app.url!, aapl),
    ]);
    expect(streams.every((s) => s.status === 200 && s.contentType?.startsWith('text/event-stream'))).toBe(
      true,
    );
    // Every stream in its cohort (the two spellings share one) before the tick, all from one Redis
    // subscription: the API's own, which it holds from the start.
    await until(() => subscriptionGauges(33, 2), 'the 33 streams to join their 2 cohorts');
    expect(await subscribers()).toBe(1);

    app.clock.advance(5000);
    await app.runPriceJob();
    // A frame may arrive in more than one TCP chunk: wait for each stream's whole event.
    await until(
      () => streams.every((s) => s.text().includes('event: next') && s.text().endsWith('\n\n')),
      'every stream to get the tick',
    );

    const allTexts = new Set(streams.slice(0, 31).map((s) => s.text()));
    expect([...allTexts]).toHaveLength(1);
    const [event] = [...allTexts];
    const data = JSON.parse(event!.split('data: ')[1]!.split('\n')[0]!);
    expect(data.data.ticks).toHaveLength(6);
    const aaplData = JSON.parse(streams[31]!.text().split('data: ')[1]!.split('\n')[0]!);
    expect(aaplData).toEqual({ data: { ticks: [{ ticker: 'AAPL', price: expect.any(Number) }] } });
    expect(streams[32]!.text()).toBe(streams[31]!.text());

    for (const stream of streams) stream.close();
    // The API keeps its own Redis subscription to the channel (the history cache hears every tick), so
    // the release shows in the cohorts, not in NUMSUB.
    await until(() => subscriptionGauges(0, 0), 'the last unsubscribe to release both cohorts');
  });

  it('serves /graphql/ and other spellings the router takes through the cohorts too', async () => {
    const streams = await Promise.all(
      ['/graphql/', '/GraphQL'].map((path) =>
        openStream(app.url!, 'subscription { ticks { ticker } }', path),
      ),
    );
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    await until(() => subscriptionGauges(2, 1), 'both streams to join one cohort');
    for (const stream of streams) stream.close();
    await until(() => subscriptionGauges(0, 0), 'both streams to be released');
  });

  it('answers a refused subscription with its error and a clean end', async () => {
    const stream = await openStream(app.url!, 'subscription { ticks(tickers: ["not a ticker"]) { ticker } }');
    await stream.done;
    expect(stream.ended()).toBe(true);
    expect(stream.text()).toMatch(
      /event: next\ndata: \{"errors":\[\{"message":"tickers: \\"not a ticker\\" is not a ticker/,
    );
    expect(stream.text()).toMatch(/event: complete\n/);
  });

  it('checks a stream request as any /graphql request: origin, body type, and the same headers', async () => {
    const post = (headers: Record<string, string>, body = '{"query":"subscription { ticks { ticker } }"}') =>
      fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body,
      });
    const foreign = await post({ origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual({
      errors: [{ message: 'origin https://evil.example is not allowed: add it to ALLOWED_ORIGINS' }],
    });
    const form = await post({ 'content-type': 'text/plain' });
    expect(form.status).toBe(415);
    expect((await form.json()).errors[0].message).toMatch(/Content-Type text\/plain is not accepted/);
    const big = await post(
      {},
      JSON.stringify({ query: `subscription { ticks { ticker } } #${'x'.repeat(70_000)}` }),
    );
    expect(big.status).toBe(413);

    // A listed origin may read the stream (CORS with credentials); it carries our security headers.
    const controller = new AbortController();
    const listed = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        origin: 'https://dashboard.example',
      },
      body: '{"query":"subscription { ticks { ticker } }"}',
      signal: controller.signal,
    });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://dashboard.example');
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(listed.headers.get('x-content-type-options')).toBe('nosniff');
    // Only the shared set (BASE_SECURITY_HEADERS) provides this one; the stream's own headers do not.
    expect(listed.headers.get('x-frame-options')).toBe('DENY');
    expect(listed.headers.get('content-security-policy')).toContain("default-src 'self'");
    controller.abort();
  });

  it('takes a subscription from a GET query string too', async () => {
    const controller = new AbortController();
    const query = encodeURIComponent('subscription { ticks(tickers: ["AAPL"]) { ticker } }');
    const response = await fetch(`${app.url}/graphql?query=${query}`, {
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it('still answers queries asked over an event stream, through Yoga', async () => {
    const stream = await openStream(app.url!, '{ permissions { adminMode } }');
    await stream.done;
    expect(stream.text()).toContain('"adminMode":"LOOPBACK"');
  });
});

describe('shutdown', () => {
  it('ends open subscription streams with complete', async () => {
    const app = await startTestApp();
    const stream = await openStream(app.url!, 'subscription { ticks { ticker } }');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.stop();
    await stream.done;
    expect(stream.ended()).toBe(true);
    expect(stream.text()).toMatch(/event: complete\ndata:\n\n$/);
  });
});
