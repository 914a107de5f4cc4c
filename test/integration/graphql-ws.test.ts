import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSubscriptionCohorts } from '../../graphql/subscription-cohorts.ts';
import { createGraphqlWsServer } from '../../src/server/graphql-ws-server.ts';
import { ticksChannel } from '../../src/tick-channel.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { silentLogger, TEST_REDIS_URL } from '../helpers/services.ts';
import { readSse } from '../helpers/sse.ts';

const PASSWORD = 'correct horse battery staple';
const ADMIN = { authorization: `Bearer ${PASSWORD}` };
const PROTOCOL = 'graphql-transport-ws';

const wsUrl = (app: TestApp, path = '/graphql') => `${app.url!.replace(/^http/, 'ws')}${path}`;

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A bare `ws` client speaking the protocol by hand, to see exactly what the server sends and how it closes. */
function rawSocket(url: string, options: { protocol?: string; headers?: Record<string, string> } = {}) {
  const socket = new WebSocket(url, options.protocol ?? PROTOCOL, { headers: options.headers });
  const messages: Message[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  socket.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  return {
    socket,
    messages,
    closed,
    opened: once(socket, 'open'),
    send(message: unknown) {
      socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    /** The first message matching `match`, waiting for it if need be. */
    async next(match: (message: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        const found = messages.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    /** Opens and completes connection_init → connection_ack. */
    async init() {
      await once(socket, 'open');
      socket.send(JSON.stringify({ type: 'connection_init' }));
      await this.next((m) => m.type === 'connection_ack');
    },
  };
}

/** The HTTP answer to an upgrade the server refused before the handshake. */
function refusedUpgrade(
  url: string,
  options: { protocol?: string | string[]; headers?: Record<string, string> },
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const socket = new WebSocket(url, options.protocol ?? PROTOCOL, { headers: options.headers });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.on('open', () => reject(new Error('the upgrade was accepted')));
    socket.on('error', () => {});
  });
}

/** A graphql-ws client (the package's own) on the `ws` implementation, optionally with upgrade headers. */
function wsClient(url: string, headers: Record<string, string> = {}) {
  class WithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({ url, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: true });
}

/** Runs one operation to its end and answers every result. */
async function run(
  client: ReturnType<typeof createClient>,
  query: string,
  variables?: Record<string, unknown>,
) {
  const results: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }[] =
    [];
  for await (const result of client.iterate({ query, variables })) results.push(result as never);
  return results;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Subscribers and cohorts as /metrics reports them. */
async function subscriptionStats(app: TestApp) {
  const response = await fetch(`${app.url}/metrics`, { headers: ADMIN });
  const text = await response.text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    subscribers: gauge('stockstreamer_subscribers'),
    cohorts: gauge('stockstreamer_subscription_cohorts'),
  };
}

/** The subscriptions opened and closed since start, by transport, as /metrics counts them. */
async function subscriptionCounters(app: TestApp) {
  const text = await (await fetch(`${app.url}/metrics`, { headers: ADMIN })).text();
  const counter = (event: string, transport: string) =>
    Number(
      new RegExp(
        `^stockstreamer_subscriptions_${event}_total\\{transport="${transport}"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1] ?? Number.NaN,
    );
  return {
    opened: { sse: counter('opened', 'sse'), ws: counter('opened', 'graphql-ws') },
    closed: { sse: counter('closed', 'sse'), ws: counter('closed', 'graphql-ws') },
  };
}

describe('GraphQL over WebSocket (graphql-ws)', () => {
  let app: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    app = await startTestApp({
      env: { ADMIN_PASSWORD: PASSWORD, MAX_SUBSCRIPTIONS_PER_CLIENT: '50', RATE_LIMIT_PER_MINUTE: '100000' },
    });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await app?.stop();
  });

  it('delivers a stored tick to a WebSocket subscriber, as the database has it', async () => {
    const client = wsClient(wsUrl(app));
    try {
      const events = client.iterate({
        query: 'subscription { ticks(tickers: ["AAPL"]) { ticker price time } }',
      });
      const first = events.next();
      await until(async () => (await subscriptionStats(app)).subscribers === 1, 'the subscription to start');
      app.clock.advance(5000);
      await app.runPriceJob();
      const event = (await first).value as {
        data: { ticks: { ticker: string; price: number; time: string }[] };
      };
      expect(event.data.ticks).toHaveLength(1);
      const [tick] = event.data.ticks;
      const db = new pg.Client({ connectionString: app.database.url });
      await db.connect();
      const stored = await db
        .query<{ price: string }>(`select price from stock_prices where stock_name = 'AAPL' and time = $1`, [
          tick!.time,
        ])
        .finally(() => db.end());
      expect(tick!.ticker).toBe('AAPL');
      expect(stored.rows).toHaveLength(1);
      expect(tick!.price).toBe(Number(stored.rows[0]!.price));
      await events.return?.();
    } finally {
      await client.dispose();
    }
    await until(async () => (await subscriptionStats(app)).cohorts === 0, 'the cohort to be released');
  });

  it('shares one cohort between an SSE and a WebSocket subscriber of the same operation', async () => {
    const query = 'subscription { ticks { ticker price time } }';
    const before = await subscriptionCounters(app);
    const client = wsClient(wsUrl(app));
    const sse = readSse(`${app.url}/graphql`, query);
    try {
      const events = client.iterate({ query });
      const wsEvent = events.next();
      await sse.ready;
      await until(async () => (await subscriptionStats(app)).subscribers === 2, 'both subscriptions');
      expect(await subscriptionStats(app)).toEqual({ subscribers: 2, cohorts: 1 });

      app.clock.advance(5000);
      await app.runPriceJob();
      const [fromWs, fromSse] = await Promise.all([wsEvent.then((e) => e.value), sse.next()]);
      expect((fromWs as { data: { ticks: unknown[] } }).data.ticks).toHaveLength(6);
      expect(fromWs).toEqual(fromSse);
      await events.return?.();
    } finally {
      sse.close();
      await client.dispose();
    }
    await until(async () => (await subscriptionStats(app)).cohorts === 0, 'the shared source to be released');
    // One of each transport opened and closed, counted for Prometheus.
    const plusOne = (n: number) => n + 1;
    expect(await subscriptionCounters(app)).toEqual({
      opened: { sse: plusOne(before.opened.sse), ws: plusOne(before.opened.ws) },
      closed: { sse: plusOne(before.closed.sse), ws: plusOne(before.closed.ws) },
    });
  });

  it('answers queries, and validation errors as an `error` message', async () => {
    const client = wsClient(wsUrl(app));
    try {
      const [watchlist] = await run(client, '{ watchlist { ticker } }');
      expect((watchlist!.data as { watchlist: unknown[] }).watchlist).toHaveLength(6);

      const [refused] = await run(client, 'query($t: String!) { stock(ticker: $t) { ticker } }', {
        t: "AAPL'; DROP TABLE stock_prices;--",
      });
      expect(refused!.errors?.[0]?.message).toMatch(/ticker: .*is not a ticker/);

      await expect(run(client, '{ nope }')).rejects.toEqual([
        expect.objectContaining({ message: 'Cannot query field "nope" on type "Query".' }),
      ]);
      const aliasBomb = `{ ${Array.from({ length: 16 }, (_, i) => `x${i}: watchlist { ticker }`).join(' ')} }`;
      await expect(run(client, aliasBomb)).rejects.toEqual([
        expect.objectContaining({
          message: 'Aliases limit of 15 exceeded, found 16.',
          extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }),
        }),
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('needs admin credentials on the upgrade for a mutation, exactly like HTTP', async () => {
    const mutation = 'mutation { addToWatchlist(ticker: "MSFT") { ticker enabled } }';
    const anonymous = wsClient(wsUrl(app));
    const wrong = wsClient(wsUrl(app), { authorization: 'Bearer wrong-password-123' });
    const admin = wsClient(wsUrl(app), ADMIN);
    try {
      const [refused] = await run(anonymous, mutation);
      expect(refused!.errors?.[0]).toMatchObject({
        message: 'not allowed: admin credentials are required (ADMIN_PASSWORD)',
        extensions: { code: 'FORBIDDEN' },
      });
      const [wrongAnswer] = await run(wrong, mutation);
      expect(wrongAnswer!.errors?.[0]?.message).toBe('not allowed: the admin credentials are wrong');
      expect((await app.deps.watchlist.list()).some((entry) => entry.ticker === 'MSFT')).toBe(false);

      const [accepted] = await run(admin, mutation);
      expect(accepted).toEqual({ data: { addToWatchlist: { ticker: 'MSFT', enabled: true } } });
      const [canEdit] = await run(admin, '{ permissions { canEditWatchlist } }');
      expect(canEdit).toEqual({ data: { permissions: { canEditWatchlist: true } } });
    } finally {
      await run(admin, 'mutation { removeFromWatchlist(ticker: "MSFT") }').catch(() => {});
      await Promise.all([anonymous.dispose(), wrong.dispose(), admin.dispose()]);
    }
  });

  it('takes admin credentials in connection_init too, as a browser cannot set headers on a socket', async () => {
    const mutation = 'mutation { addToWatchlist(ticker: "ORCL") { ticker enabled } }';
    const admin = createClient({
      url: wsUrl(app),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${PASSWORD}` },
    });
    try {
      const [accepted] = await run(admin, mutation);
      expect(accepted).toEqual({ data: { addToWatchlist: { ticker: 'ORCL', enabled: true } } });
    } finally {
      await run(admin, 'mutation { removeFromWatchlist(ticker: "ORCL") }').catch(() => {});
      await admin.dispose();
    }
    // Wrong credentials close the socket with 4403; a non-string is a bad request.
    for (const [payload, code, reason] of [
      [{ authorization: 'Bearer nope-not-it' }, 4403, 'Forbidden: the admin credentials are wrong'],
      [{ authorization: 42 }, 4400, 'connection_init: authorization must be a string'],
    ] as const) {
      const raw = rawSocket(wsUrl(app));
      await raw.opened;
      raw.send({ type: 'connection_init', payload });
      expect(await raw.closed).toEqual({ code, reason });
    }
  });

  it('answers ping with pong and ignores completes of unknown ids', async () => {
    const raw = rawSocket(wsUrl(app));
    await raw.init();
    raw.send({ type: 'ping', payload: { n: 1 } });
    expect(await raw.next((m) => m.type === 'pong')).toEqual({ type: 'pong', payload: { n: 1 } });
    raw.send({ type: 'complete', id: 'never-started' });
    raw.send({ id: 'q', type: 'subscribe', payload: { query: '{ permissions { adminMode } }' } });
    expect(await raw.next((m) => m.type === 'next')).toEqual({
      id: 'q',
      type: 'next',
      payload: { data: { permissions: { adminMode: 'PASSWORD' } } },
    });
    await raw.next((m) => m.type === 'complete' && m.id === 'q');
    raw.socket.close(1000);
    expect((await raw.closed).code).toBe(1000);
  });

  describe('closes the socket on protocol errors', () => {
    it('4408 without connection_init within 3 s', async () => {
      const raw = rawSocket(wsUrl(app));
      await raw.opened;
      const started = Date.now();
      expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
      expect(Date.now() - started).toBeGreaterThan(2500);
    });
    it('4401 on subscribe before connection_ack', async () => {
      const raw = rawSocket(wsUrl(app));
      await raw.opened;
      raw.send({ id: '1', type: 'subscribe', payload: { query: '{ watchlist { ticker } }' } });
      expect(await raw.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
    });
    it('4409 on a second subscribe with an id in use', async () => {
      const raw = rawSocket(wsUrl(app));
      await raw.init();
      const subscribe = {
        id: 'same',
        type: 'subscribe',
        payload: { query: 'subscription { ticks { ticker } }' },
      };
      raw.send(subscribe);
      raw.send(subscribe);
      expect(await raw.closed).toEqual({ code: 4409, reason: 'Subscriber for same already exists' });
    });
    it('4429 on a second connection_init', async () => {
      const raw = rawSocket(wsUrl(app));
      await raw.init();
      raw.send({ type: 'connection_init' });
      expect(await raw.closed).toEqual({ code: 4429, reason: 'Too many initialisation requests' });
    });
    it.each([
      ['not JSON', '{"type": '],
      ['no type', { id: '1' }],
      ['an unknown type', { type: 'start', id: '1' }],
      ['a server-only type', { type: 'next', id: '1', payload: {} }],
      ['a subscribe without a query', { type: 'subscribe', id: '1', payload: {} }],
      [
        'a subscribe with an empty id',
        { type: 'subscribe', id: '', payload: { query: '{ watchlist { ticker } }' } },
      ],
      [
        'variables that are not an object',
        { type: 'subscribe', id: '1', payload: { query: '{ a }', variables: [] } },
      ],
    ])('4400 on %s', async (_name, message) => {
      const raw = rawSocket(wsUrl(app));
      await raw.init();
      raw.send(message);
      const closed = await raw.closed;
      expect(closed.code).toBe(4400);
      expect(closed.reason).toMatch(/^Invalid message received/);
    });
    it('1009 on a message over 64 KB', async () => {
      const raw = rawSocket(wsUrl(app));
      await raw.init();
      raw.send({
        id: 'big',
        type: 'subscribe',
        payload: { query: `{ watchlist { ticker } } #${'x'.repeat(70_000)}` },
      });
      expect((await raw.closed).code).toBe(1009);
    });
  });

  describe('refuses the upgrade before the handshake', () => {
    it('from a page on another origin (cross-site WebSocket hijacking), even with credentials', async () => {
      const refused = await refusedUpgrade(wsUrl(app), {
        headers: { origin: 'https://evil.example', ...ADMIN },
      });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('origin https://evil.example is not allowed');
    });
    it('accepts a page of its own origin', async () => {
      const raw = rawSocket(wsUrl(app), { headers: { origin: app.url! } });
      await raw.init();
      raw.socket.close();
      await raw.closed;
    });
    it('without the graphql-transport-ws subprotocol', async () => {
      expect((await refusedUpgrade(wsUrl(app), { protocol: 'graphql-ws' })).status).toBe(400);
      expect((await refusedUpgrade(wsUrl(app), { protocol: [] })).status).toBe(400);
    });
    it('on any other path', async () => {
      expect((await refusedUpgrade(wsUrl(app, '/admin/queues'), {})).status).toBe(404);
    });
  });

  it('releases the cohort when the client completes its subscription', async () => {
    const raw = rawSocket(wsUrl(app));
    await raw.init();
    raw.send({
      id: 's1',
      type: 'subscribe',
      payload: { query: 'subscription { ticks(tickers: ["NVDA"]) { price } }' },
    });
    await until(async () => (await subscriptionStats(app)).cohorts === 1, 'the subscription to start');
    expect(await subscriptionStats(app)).toEqual({ subscribers: 1, cohorts: 1 });
    raw.send({ id: 's1', type: 'complete' });
    await until(async () => (await subscriptionStats(app)).cohorts === 0, 'the cohort to be released');
    expect(await subscriptionStats(app)).toEqual({ subscribers: 0, cohorts: 0 });
    // The id is free again, and the socket still works.
    raw.send({ id: 's1', type: 'subscribe', payload: { query: '{ permissions { adminMode } }' } });
    await raw.next((m) => m.type === 'next' && m.id === 's1');
    raw.socket.close();
    await raw.closed;
  });

  it('drops a client that stops reading, without holding up the others', async () => {
    const query = 'subscription { ticks { ticker price } }';
    const slow = rawSocket(wsUrl(app));
    await slow.init();
    slow.send({ id: 'slow', type: 'subscribe', payload: { query } });
    const fast = wsClient(wsUrl(app));
    const received: unknown[] = [];
    const done = new Promise<void>((resolve, reject) => {
      fast.subscribe({ query }, { next: (value) => received.push(value), error: reject, complete: resolve });
    });
    try {
      await until(async () => (await subscriptionStats(app)).subscribers === 2, 'both subscriptions');
      slow.socket.pause();
      // 300 events of 2,000 ticks (about 50 KB each): far more than the socket buffers on both ends hold.
      const batch = (round: number) =>
        JSON.stringify(
          Array.from({ length: 2000 }, (_, i) => ({
            ticker: `T${i}`,
            price: 100 + round,
            time: new Date(Date.UTC(2026, 0, 1, 0, 0, round)).toISOString(),
          })),
        );
      for (let round = 0; round < 300; round++) await redis.publish(ticksChannel(app.prefix), batch(round));
      await until(() => received.length === 300, 'the reading client to get every event', 30_000);
      await until(
        async () => (await subscriptionStats(app)).subscribers === 1,
        'the slow client to be dropped',
      );
    } finally {
      slow.socket.terminate();
      await fast.dispose();
      await done.catch(() => {});
    }
  }, 60_000);
});

describe('graphql-ws limits and shutdown', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ role: 'api', env: { MAX_SUBSCRIPTIONS_PER_CLIENT: '2' } });
  });
  afterAll(() => app?.stop());

  it('counts WebSocket subscriptions against the per-client cap shared with SSE', async () => {
    const sse = readSse(`${app.url}/graphql`, 'subscription { ticks { ticker } }');
    await sse.ready;
    const raw = rawSocket(wsUrl(app));
    await raw.init();
    raw.send({ id: 'a', type: 'subscribe', payload: { query: 'subscription { ticks { price } }' } });
    raw.send({ id: 'b', type: 'subscribe', payload: { query: 'subscription { ticks { time } }' } });
    const refused = await raw.next((m) => m.id === 'b');
    expect(refused).toEqual({
      id: 'b',
      type: 'error',
      payload: [{ message: 'too many open subscriptions: at most 2 per client' }],
    });
    sse.close();
    raw.socket.close();
    await raw.closed;
  });

  it('ends WebSocket subscriptions with `complete` and closes with 1001 on shutdown', async () => {
    const raw = rawSocket(wsUrl(app));
    await raw.init();
    raw.send({ id: 'live', type: 'subscribe', payload: { query: 'subscription { ticks { ticker } }' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await app.close();
    expect(await raw.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(raw.messages).toContainEqual({ id: 'live', type: 'complete' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('graphql-ws and the per-client request rate', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ role: 'api', env: { RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(() => app?.stop());

  it('counts the upgrade and every operation on the socket as requests, like HTTP', async () => {
    const raw = rawSocket(wsUrl(app));
    await raw.init();
    const query = { query: '{ permissions { adminMode } }' };
    for (const id of ['1', '2', '3']) raw.send({ id, type: 'subscribe', payload: query });
    await raw.next((m) => m.id === '3');
    expect(raw.messages.filter((m) => m.type === 'next').map((m) => m.id)).toEqual(['1', '2']);
    expect(raw.messages.find((m) => m.id === '3')).toEqual({
      id: '3',
      type: 'error',
      payload: [{ message: 'too many requests: at most 3 per minute per client' }],
    });
    const refused = await refusedUpgrade(wsUrl(app), {});
    expect(refused.status).toBe(429);
    raw.socket.close();
    await raw.closed;
  });
});

describe('graphql-ws heartbeat', () => {
  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const schema = buildSchema('type Query { ok: Boolean }');
    const webSockets = createGraphqlWsServer({
      schema,
      cohorts: createSubscriptionCohorts({ schema, logger: silentLogger }),
      logger: silentLogger,
      maxPayloadBytes: 1024,
      heartbeatMs: 100,
    });
    let closedSessions = 0;
    const server = createServer();
    server.on('upgrade', (req, socket, head) =>
      webSockets.handleUpgrade(req, socket, head, {
        admin: { allowed: false, status: 403, reason: 'none here' },
        adminFor: async () => ({ allowed: false, status: 403, reason: 'none here' }),
        audit: () => {},
        spendRequest: () => undefined,
        reserveSubscription: () => () => {},
        subscriptionLimitMessage: 'none',
        closed: () => {
          closedSessions += 1;
        },
      }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const silent = new WebSocket(`ws://127.0.0.1:${port}`, PROTOCOL, { autoPong: false });
      const answering = new WebSocket(`ws://127.0.0.1:${port}`, PROTOCOL);
      await Promise.all([once(silent, 'open'), once(answering, 'open')]);
      for (const socket of [silent, answering]) socket.send(JSON.stringify({ type: 'connection_init' }));
      const [code] = (await once(silent, 'close')) as [number];
      expect(code).toBe(1006);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(answering.readyState).toBe(WebSocket.OPEN);
      expect(webSockets.stats().sockets).toBe(1);
      expect(closedSessions).toBe(1);
      await webSockets.closeAll(1000);
      expect(answering.readyState).not.toBe(WebSocket.OPEN);
    } finally {
      server.close();
    }
  });
});
