import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_QUEUE } from '../../jobs/queues.ts';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from '../../src/domain/webhook-signature.ts';
import { createWebhookPoster, refusedAddress, WebhookRefusedError } from '../../src/webhooks/post-webhook.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const SECRET = 'test-signing-secret-0123456789';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local webhook receiver: /flaky answers 500 three times, then 200; /silent never answers. */
async function startReceiver() {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/silent') return;
      const flakyCalls = received.filter((r) => r.path === '/flaky').length;
      res.writeHead(req.url === '/flaky' && flakyCalls <= 3 ? 500 : 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 800; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('alert webhooks: retries with backoff, a signature, a dead letter, the SSRF rule', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let app: TestApp;

  beforeAll(async () => {
    receiver = await startReceiver();
    app = await startTestApp({
      env: {
        ALERT_WEBHOOKS: `json=${receiver.url}/flaky slack=${receiver.url}/silent`,
        ALERT_WEBHOOK_SECRET: SECRET,
        // The receiver is on loopback: allowed here, explicitly (refused by default, tested below).
        ALERT_WEBHOOK_ALLOW_PRIVATE: 'true',
        ALERT_WEBHOOK_TIMEOUT_MS: '300',
        ALERT_WEBHOOK_ATTEMPTS: '4',
        ALERT_WEBHOOK_BACKOFF_MS: '20',
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  it('a receiver failing three times gets the firing on the fourth try, signed; one never answering ends in the dead letter', async () => {
    app.clock.advance(5000);
    await app.runPriceJob();
    await until('the first evaluation', async () =>
      ((await app.workers!.alertQueue.getJobCounts('completed')).completed ?? 0) > 1 ? true : undefined,
    );
    const { rows } = await app.deps.database.pool.query(
      `select price from stock_prices where stock_name = 'AAPL' and time = $1`,
      [app.clock.now()],
    );
    const rule = await app.deps.alerts.create({
      ticker: 'AAPL',
      kind: 'below',
      threshold: Number(rows[0].price) * 2,
      windowS: null,
      cooldownS: 0,
    });
    app.clock.advance(5000);
    await app.runPriceJob();

    const flaky = await until('four tries at /flaky', () => {
      const tries = receiver.received.filter((r) => r.path === '/flaky');
      return tries.length >= 4 ? tries : undefined;
    });
    const delivered = flaky[3]!;
    const payload = JSON.parse(delivered.body);
    expect(payload).toMatchObject({
      event: 'alert.fired',
      alert: { ruleId: rule.id, ticker: 'AAPL', kind: 'below', time: app.clock.now().toISOString() },
    });
    expect(payload.alert.message).toMatch(/^AAPL at \$[\d.]+, at or below \$/);
    expect(
      verifyWebhookSignature({
        secret: SECRET,
        body: delivered.body,
        timestamp: delivered.headers[TIMESTAMP_HEADER] as string,
        signature: delivered.headers[SIGNATURE_HEADER] as string,
        nowS: Math.floor(app.clock.now().getTime() / 1000),
      }),
    ).toEqual({ ok: true });
    // Every try is the same delivery, so a receiver can drop a repeat.
    expect(new Set(flaky.map((r) => r.headers[DELIVERY_HEADER])).size).toBe(1);
    // A body altered on the way fails the check.
    expect(
      verifyWebhookSignature({
        secret: SECRET,
        body: delivered.body.replace('AAPL', 'MSFT'),
        timestamp: delivered.headers[TIMESTAMP_HEADER] as string,
        signature: delivered.headers[SIGNATURE_HEADER] as string,
        nowS: Math.floor(app.clock.now().getTime() / 1000),
      }),
    ).toEqual({ ok: false, reason: 'signature does not match' });

    const queue = app.workers!.deliveryQueue;
    expect(queue.name).toBe(DELIVERY_QUEUE);
    const dead = await until('the silent delivery in the dead letter', async () => {
      const [job] = await queue.getFailed();
      return job;
    });
    expect(dead.attemptsMade).toBe(4);
    expect(dead.failedReason).toBe(`no answer from 127.0.0.1:${receiver.port} within 300 ms`);
    expect(dead.data.firing.ruleId).toBe(rule.id);
    const silent = receiver.received.filter((r) => r.path === '/silent');
    expect(silent).toHaveLength(4);
    expect(JSON.parse(silent[0]!.body).text).toMatch(/^Price alert: AAPL at \$/);
    expect((await queue.getJobCounts('completed')).completed).toBe(1);
  });
});

describe('the SSRF rule for webhook targets', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['fd00::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
  ])('refuses %s (%s) unless private targets are allowed', (address, range) => {
    expect(refusedAddress(address, false)).toContain(`is a ${range} address`);
    expect(refusedAddress(address, true)).toBeUndefined();
  });

  it('allows public unicast addresses', () => {
    expect(refusedAddress('93.184.216.34', false)).toBeUndefined();
    expect(refusedAddress('2606:2800:220:1:248:1893:25c8:1946', false)).toBeUndefined();
  });

  it('refuses a loopback receiver by IP literal and by a name that resolves to it, sending nothing', async () => {
    const receiver = await startReceiver();
    try {
      const post = createWebhookPoster({ allowPrivate: false, timeoutMs: 1000 });
      for (const url of [`${receiver.url}/flaky`, `http://localhost:${receiver.port}/flaky`]) {
        const error = await post({ url, body: '{}', headers: {} }).catch((e: unknown) => e);
        expect(error, url).toBeInstanceOf(WebhookRefusedError);
        expect(String(error)).toMatch(/is a loopback address/);
      }
      expect(receiver.received).toEqual([]);
      // The control: the same receiver, allowed, gets the request.
      const allowed = createWebhookPoster({ allowPrivate: true, timeoutMs: 1000 });
      await allowed({ url: `http://localhost:${receiver.port}/ok`, body: '{}', headers: {} });
      expect(receiver.received.map((r) => r.path)).toEqual(['/ok']);
    } finally {
      await receiver.close();
    }
  });
});
