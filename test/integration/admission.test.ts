import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeQueues, createQueues } from '../../jobs/queues.ts';
import { loadConfig } from '../../src/config.ts';
import { createDeps } from '../../src/deps.ts';
import { ADMIN_LOGIN_ATTEMPTS, ADMIN_LOGIN_WINDOW_S, createAdmission } from '../../src/server/admission.ts';
import { buildApi } from '../../src/server/api.ts';
import { createClientLimits } from '../../src/server/client-limits.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  createTestDatabase,
  removeRedisPrefix,
  silentLogger,
  TEST_REDIS_URL,
  testEnv,
  uniqueName,
} from '../helpers/services.ts';

const PASSWORD = 'correct horse battery staple';
const WRONG = 'not the password at all';
const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
const ADD = (ticker: string) =>
  JSON.stringify({ query: `mutation { addToWatchlist(ticker: "${ticker}") { ticker } }` });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A real HTTP request with exactly the headers given (Host included), as a browser or proxy would send. */
function request(
  app: TestApp,
  init: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const url = new URL(app.url!);
  const body = init.body;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: init.method ?? 'GET',
        path: init.path ?? '/',
        headers: {
          host: url.host,
          ...(body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
            : {}),
          ...init.headers,
        },
      },
      (res) => {
        // An event stream that was let in stays open: its status and headers are the answer.
        if ((res.headers['content-type'] ?? '').includes('event-stream')) {
          res.destroy();
          return resolve({ status: res.statusCode!, headers: res.headers, text: '' });
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw WebSocket upgrade to /graphql: the refusal's status, or 101 when the handshake was accepted. */
function upgrade(app: TestApp, headers: Record<string, string>): Promise<number> {
  const url = new URL(app.url!);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: '/graphql',
      headers: {
        host: url.host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        'sec-websocket-version': '13',
        'sec-websocket-protocol': 'graphql-transport-ws',
        ...headers,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs one operation over graphql-ws (a real socket through the real upgrade): its `next` payload, or the
 * close code and reason when the server closed the socket first.
 */
async function overWebSocket(
  app: TestApp,
  headers: Record<string, string>,
  query: string,
  init: Record<string, unknown> = {},
): Promise<{ payload?: { data?: unknown; errors?: { message: string }[] }; close?: [number, string] }> {
  const socket = new WebSocket(`${app.url!.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
    headers,
  });
  const closed = once(socket, 'close').then(([code, reason]) => ({
    close: [code as number, String(reason)] as [number, string],
  }));
  await once(socket, 'open');
  const answered = new Promise<{ payload: { data?: unknown; errors?: { message: string }[] } }>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      }
      if (message.type === 'next') resolve({ payload: message.payload });
    });
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: init }));
  const result = await Promise.race([answered, closed]);
  socket.close();
  return result;
}

/** Every log line the app writes, parsed; the audit trail is the lines with an `audit` field. */
function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line));
      },
    },
  );
  const audits = () => lines.flatMap((line) => (line.audit ? [line.audit as Record<string, string>] : []));
  return { logger, raw, audits };
}

const PROXY_HEADERS: [string, string][] = [
  ['X-Real-IP', '203.0.113.9'],
  ['X-Forwarded-For', '203.0.113.9'],
  ['X-Forwarded-Host', 'localhost'],
  ['X-Forwarded-Proto', 'http'],
  ['Forwarded', 'for=203.0.113.9'],
  ['Via', '1.1 caddy'],
  ['True-Client-IP', '203.0.113.9'],
  ['CF-Connecting-IP', '203.0.113.9'],
  ['X-Client-IP', '203.0.113.9'],
  ['X-Cluster-Client-IP', '203.0.113.9'],
  ['Fastly-Client-IP', '203.0.113.9'],
];

describe('admission without a password: loopback admin', () => {
  let app: TestApp;
  let prices: Queue;
  const logs = captureLogs();

  beforeAll(async () => {
    app = await startTestApp({ role: 'api', logger: logs.logger });
    prices = new Queue('prices', { connection: new Redis(TEST_REDIS_URL), prefix: app.prefix });
  });
  afterAll(async () => {
    await prices?.close();
    await app?.stop();
  });

  const watched = async () => (await app.deps.watchlist.list()).map((entry) => entry.ticker);

  it('gives admin to a direct request from this machine (the control for what follows)', async () => {
    const answer = await request(app, { method: 'POST', path: '/graphql', body: ADD('MSFT') });
    expect(JSON.parse(answer.text)).toEqual({ data: { addToWatchlist: { ticker: 'MSFT' } } });
    expect((await request(app, { path: '/admin/queues' })).status).toBe(200);
    expect(
      (await overWebSocket(app, {}, 'mutation { removeFromWatchlist(ticker: "MSFT") }')).payload,
    ).toEqual({
      data: { removeFromWatchlist: true },
    });
  });

  describe('a foreign Host with a matching Origin (DNS rebinding) is refused before anything else', () => {
    const rebound = () => {
      const port = new URL(app.url!).port;
      return { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    };
    it.each([
      ['POST /graphql (a mutation)', 'POST', '/graphql', {}, ADD('ORCL')],
      ['GET /graphql (a query)', 'GET', '/graphql?query=%7Bwatchlist%7Bticker%7D%7D', {}, undefined],
      [
        'POST /graphql (a subscription stream)',
        'POST',
        '/graphql',
        { accept: 'text/event-stream' },
        JSON.stringify({ query: 'subscription { ticks { ticker } }' }),
      ],
      ['GET /admin/queues', 'GET', '/admin/queues', {}, undefined],
      ['PUT Bull Board pause', 'PUT', '/admin/queues/api/queues/prices/pause', {}, undefined],
      [
        'POST Bull Board add job',
        'POST',
        '/admin/queues/api/queues/prices/add',
        {},
        JSON.stringify({ name: 'prices', data: {} }),
      ],
      ['GET /metrics', 'GET', '/metrics', {}, undefined],
      ['GET /healthz', 'GET', '/healthz', {}, undefined],
      ['GET /', 'GET', '/', {}, undefined],
      ['GET /logos/AAPL', 'GET', '/logos/AAPL', {}, undefined],
    ])('%s', async (_name, method, path, headers: Record<string, string>, body) => {
      const answer = await request(app, { method, path, body, headers: { ...rebound(), ...headers } });
      expect(answer.status).toBe(421);
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(answer.text).errors[0].message).toMatch(
        /^Host "evil\.example:\d+" is not served here: .*localhost.*add the name to ALLOWED_HOSTS/,
      );
    });

    it('the WebSocket upgrade', async () => {
      expect(await upgrade(app, rebound())).toBe(421);
      expect(await upgrade(app, {})).toBe(101);
    });

    it.each(['localhost.evil.example', '127.0.0.1.evil.example', 'evil.example'])(
      'any port, Host %s',
      async (host) => {
        expect((await request(app, { path: '/healthz', headers: { host } })).status).toBe(421);
      },
    );

    it('left nothing changed: no ticker added, no queue paused, no job added', async () => {
      expect(await watched()).not.toContain('ORCL');
      expect(await prices.isPaused()).toBe(false);
      expect(await prices.count()).toBe(0);
    });
  });

  describe.each(PROXY_HEADERS)('a request carrying %s never gets loopback admin', (name, value) => {
    it('over HTTP (mutation and Bull Board)', async () => {
      const answer = await request(app, {
        method: 'POST',
        path: '/graphql',
        body: ADD('IBM'),
        headers: { [name]: value },
      });
      expect(JSON.parse(answer.text).errors[0].message).toMatch(
        /not allowed: .*only open to direct requests/,
      );
      expect((await request(app, { path: '/admin/queues', headers: { [name]: value } })).status).toBe(403);
      expect((await request(app, { path: '/metrics', headers: { [name]: value } })).status).toBe(403);
    });
    it('over a WebSocket', async () => {
      const result = await overWebSocket(
        app,
        { [name]: value },
        'mutation { addToWatchlist(ticker: "IBM") { ticker } }',
      );
      expect(result.payload?.errors?.[0]?.message).toMatch(/not allowed: .*only open to direct requests/);
      expect(await watched()).not.toContain('IBM');
    });
  });

  it('keeps Bull Board read-only unless BULL_BOARD_WRITE=true, and audits the refused changes', async () => {
    const add = await request(app, {
      method: 'POST',
      path: '/admin/queues/api/queues/prices/add',
      body: JSON.stringify({ name: 'prices', data: { tickers: ['EVIL'] } }),
    });
    expect(add.status).toBe(405);
    const pause = await request(app, { method: 'PUT', path: '/admin/queues/api/queues/prices/pause' });
    expect(pause.status).toBe(405);
    expect(await prices.isPaused()).toBe(false);
    expect(await prices.count()).toBe(0);
    expect(logs.audits()).toEqual(
      expect.arrayContaining([
        {
          client: '127.0.0.1',
          action: 'bull-board.POST',
          target: '/admin/queues/api/queues/prices/add',
          outcome: 'refused',
        },
        {
          client: '127.0.0.1',
          action: 'bull-board.PUT',
          target: '/admin/queues/api/queues/prices/pause',
          outcome: 'refused',
        },
      ]),
    );
  });

  it('marks admin pages and API answers no-store, and GraphiQL as UTF-8', async () => {
    for (const path of ['/admin/queues', '/metrics', '/healthz']) {
      expect((await request(app, { path })).headers['cache-control'], path).toBe('no-store');
    }
    const json = await request(app, {
      method: 'POST',
      path: '/graphql',
      body: JSON.stringify({ query: '{ watchlist { ticker } }' }),
    });
    expect(json.headers['content-type']).toMatch(/json/);
    expect(json.headers['cache-control']).toBe('no-store');
    const graphiql = await request(app, { path: '/graphql', headers: { accept: 'text/html' } });
    expect(graphiql.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(graphiql.text).toContain('<title>stockstreamer GraphiQL</title>');
  });
});

describe('admission with a password, behind one proxy (TRUST_PROXY=1)', () => {
  let app: TestApp;
  let redis: Redis;
  const logs = captureLogs();
  /** A request as the proxy in front forwards it: the address it saw, after whatever the client wrote. */
  const via = (client: string, written = '') => ({
    host: 'stocks.example.com',
    'x-forwarded-for': written ? `${written}, ${client}` : client,
    'x-forwarded-proto': 'https',
  });

  beforeAll(async () => {
    app = await startTestApp({
      role: 'api',
      logger: logs.logger,
      env: {
        ADMIN_PASSWORD: PASSWORD,
        TRUST_PROXY: '1',
        ALLOWED_HOSTS: 'stocks.example.com',
        BULL_BOARD_WRITE: 'true',
        RATE_LIMIT_PER_MINUTE: '20',
        MAX_SUBSCRIPTIONS_PER_CLIENT: '2',
      },
    });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await app?.stop();
  });

  it('answers the host in ALLOWED_HOSTS and loopback names, and refuses others', async () => {
    expect((await request(app, { path: '/logos/AAPL.svg', headers: via('198.51.100.1') })).status).toBe(200);
    expect((await request(app, { path: '/logos/AAPL.svg' })).status).toBe(200);
    const foreign = await request(app, {
      path: '/logos/AAPL.svg',
      headers: { ...via('198.51.100.1'), host: 'evil.example' },
    });
    expect(foreign.status).toBe(421);
    expect(foreign.text).toMatch(
      /this server answers to localhost, 127\.0\.0\.1, \[::1\], stocks\.example\.com/,
    );
  });

  it('limits failed logins per client (429 with Retry-After), audits each, and never logs a password', async () => {
    const client = '198.51.100.2';
    for (let i = 0; i < ADMIN_LOGIN_ATTEMPTS; i++) {
      const answer = await request(app, {
        path: '/admin/queues',
        headers: { ...via(client), authorization: basic(WRONG) },
      });
      expect(answer.status).toBe(401);
    }
    // Past the limit even the right password is refused, so the answers tell a guesser nothing.
    for (const [path, authorization] of [
      ['/admin/queues', basic(WRONG)],
      ['/admin/queues', basic(PASSWORD)],
      ['/metrics', `Bearer ${PASSWORD}`],
    ] as const) {
      const blocked = await request(app, { path, headers: { ...via(client), authorization } });
      expect(blocked.status, path).toBe(429);
      const retryAfter = Number(blocked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(ADMIN_LOGIN_WINDOW_S);
      expect(blocked.text).toMatch(/too many failed admin logins from this client/);
    }
    const mutation = await request(app, {
      method: 'POST',
      path: '/graphql',
      body: ADD('MSFT'),
      headers: { ...via(client), authorization: `Bearer ${PASSWORD}` },
    });
    expect(mutation.status).toBe(429);
    // Another client, and the same one without credentials, are not affected.
    const other = await request(app, {
      path: '/admin/queues',
      headers: { ...via('198.51.100.3'), authorization: basic(PASSWORD) },
    });
    expect(other.status).toBe(200);
    const anonymous = await request(app, {
      method: 'POST',
      path: '/graphql',
      body: JSON.stringify({ query: '{ watchlist { ticker } }' }),
      headers: via(client),
    });
    expect(anonymous.status).toBe(200);

    const trail = logs.audits().filter((line) => line.client === client);
    expect(trail.filter((line) => line.outcome === 'refused')).toHaveLength(ADMIN_LOGIN_ATTEMPTS);
    expect(trail.filter((line) => line.outcome === 'blocked').length).toBeGreaterThanOrEqual(4);
    expect(trail[0]).toEqual({ client, action: 'admin.login', target: '/admin/queues', outcome: 'refused' });
    const everything = logs.raw.join('');
    expect(everything).not.toContain(WRONG);
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(Buffer.from(`admin:${WRONG}`).toString('base64'));
    // Counted in the shared Redis, so every API process sees the same failures.
    expect(await redis.exists(`${app.prefix}:admin-login-failures:${client}`)).toBe(1);
  });

  it('counts wrong passwords sent in graphql-ws connection_init too', async () => {
    const client = '198.51.100.4';
    for (let i = 0; i < ADMIN_LOGIN_ATTEMPTS; i++) {
      const result = await overWebSocket(app, via(client), '{ watchlist { ticker } }', {
        authorization: `Bearer ${WRONG}`,
      });
      expect(result.close?.[0]).toBe(4403);
    }
    const blocked = await overWebSocket(app, via(client), '{ watchlist { ticker } }', {
      authorization: `Bearer ${PASSWORD}`,
    });
    expect(blocked.close?.[0]).toBe(4429);
    expect(blocked.close?.[1]).toMatch(/too many failed admin logins/);
    expect(logs.audits()).toContainEqual({
      client,
      action: 'admin.login',
      target: 'graphql-ws connection_init',
      outcome: 'refused',
    });
  });

  it('audits admin actions: mutations on both transports and Bull Board changes', async () => {
    const client = '198.51.100.5';
    const admin = { ...via(client), authorization: `Bearer ${PASSWORD}` };
    const added = await request(app, { method: 'POST', path: '/graphql', body: ADD('MSFT'), headers: admin });
    expect(JSON.parse(added.text)).toEqual({ data: { addToWatchlist: { ticker: 'MSFT' } } });
    const refused = await request(app, {
      method: 'POST',
      path: '/graphql',
      body: ADD('ORCL'),
      headers: via(client),
    });
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('FORBIDDEN');
    const removed = await overWebSocket(
      app,
      via(client),
      'mutation { removeFromWatchlist(ticker: "MSFT") }',
      {
        authorization: `Bearer ${PASSWORD}`,
      },
    );
    expect(removed.payload).toEqual({ data: { removeFromWatchlist: true } });
    const pause = await request(app, {
      method: 'PUT',
      path: '/admin/queues/api/queues/logos/pause',
      headers: admin,
    });
    expect(pause.status).toBe(200);
    await request(app, { method: 'PUT', path: '/admin/queues/api/queues/logos/resume', headers: admin });

    expect(logs.audits().filter((line) => line.client === client)).toEqual([
      { client, action: 'graphql.addToWatchlist', target: 'MSFT', outcome: 'ok' },
      { client, action: 'graphql.addToWatchlist', target: 'ORCL', outcome: 'refused' },
      { client, action: 'graphql.removeFromWatchlist', target: 'MSFT', outcome: 'ok' },
      { client, action: 'bull-board.PUT', target: '/admin/queues/api/queues/logos/pause', outcome: 'ok' },
      { client, action: 'bull-board.PUT', target: '/admin/queues/api/queues/logos/resume', outcome: 'ok' },
    ]);
  });

  it('takes the address the proxy saw: a rotating X-Forwarded-For does not walk past the rate limit', async () => {
    const client = '198.51.100.6';
    const query = JSON.stringify({ query: '{ watchlist { ticker } }' });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const written = `10.${i}.${i}.${i}`;
      statuses.push(
        (await request(app, { method: 'POST', path: '/graphql', body: query, headers: via(client, written) }))
          .status,
      );
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
    expect(statuses[20]).toBe(429);
    // The next client the proxy saw has its own allowance.
    expect(
      (
        await request(app, {
          method: 'POST',
          path: '/graphql',
          body: query,
          headers: via('198.51.100.7', client),
        })
      ).status,
    ).toBe(200);
  });

  it('caps streams on the client the proxy saw, whatever the client wrote before it', async () => {
    const client = '198.51.100.8';
    const open: http.IncomingMessage[] = [];
    const stream = (written: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(app.url!);
        const body = JSON.stringify({ query: 'subscription { ticks { ticker } }' });
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/graphql',
            headers: {
              ...via(client, written),
              accept: 'text/event-stream',
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(body)),
            },
          },
          (res) => {
            open.push(res);
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      // One after the other, each held open: two slots, then the cap (MAX_SUBSCRIPTIONS_PER_CLIENT=2).
      expect(await stream('10.0.0.1')).toBe(200);
      expect(await stream('10.0.0.2')).toBe(200);
      expect(await stream('10.0.0.3')).toBe(429);
    } finally {
      for (const res of open) res.destroy();
    }
  });
});

describe('buildApi without src/start.ts', () => {
  it('is a request handler and an upgrade handler that any server can carry', async () => {
    const database = await createTestDatabase();
    const prefix = uniqueName('q');
    const deps = await createDeps(loadConfig(testEnv(database.url, prefix)), { logger: silentLogger });
    const queues = createQueues(deps.createRedis('bull-board'), prefix);
    const api = buildApi(deps, { queues, onWatchlistChanged: async () => {}, webRoot: '/nonexistent' });
    const server = http.createServer(api.handler).on('upgrade', api.onUpgrade).listen(0, '127.0.0.1');
    try {
      await once(server, 'listening');
      const app = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as TestApp;
      const answer = await request(app, {
        method: 'POST',
        path: '/graphql',
        body: JSON.stringify({ query: '{ permissions { canEditWatchlist adminMode } }' }),
      });
      expect(JSON.parse(answer.text)).toEqual({
        data: { permissions: { canEditWatchlist: true, adminMode: 'LOOPBACK' } },
      });
      expect((await request(app, { path: '/healthz', headers: { host: 'evil.example' } })).status).toBe(421);
      expect(await upgrade(app, { host: 'evil.example' })).toBe(421);
      expect(await upgrade(app, {})).toBe(101);
    } finally {
      server.closeAllConnections();
      server.close();
      await api.close(100);
      await closeQueues(queues);
      await deps.close();
      await removeRedisPrefix(prefix);
      await database.drop();
    }
  });
});

describe('the admin mode a HOST gives without a password', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['localhost', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'disabled'],
    ['192.0.2.10', 'disabled'],
  ])('HOST=%s → %s', (host, mode) => {
    const config = loadConfig({ HOST: host });
    const admission = createAdmission({
      server: config.server,
      security: config.security,
      limits: createClientLimits({ perMinute: 60, maxStreams: 1 }),
      logger: pino({ level: 'silent' }),
      keyPrefix: 'unused',
    });
    expect(admission.mode).toBe(mode);
  });
});
