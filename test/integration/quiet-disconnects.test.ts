import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { type Running, startRole } from '../../src/start.ts';
import { createTestDatabase, removeRedisPrefix, testEnv, uniqueName } from '../helpers/services.ts';

interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string };
}

/** Opens a GraphQL-over-SSE subscription on a raw socket and resolves once its headers have arrived. */
function openStream(url: URL): Promise<net.Socket> {
  const body = JSON.stringify({ query: 'subscription { ticks { ticker price time } }' });
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
          `Accept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    socket.once('error', reject);
    socket.once('data', (chunk) =>
      chunk.toString().startsWith('HTTP/1.1 200') ? resolve(socket) : reject(new Error(chunk.toString())),
    );
  });
}

/** Writes `request` on a fresh connection and resets it `afterMs` later, as a killed tab does. */
function sendAndReset(url: URL, request: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(request);
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, afterMs);
    });
    socket.on('error', () => {});
  });
}

describe('a closed browser tab', () => {
  const lines: LogLine[] = [];
  let running: Running;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = uniqueName('q');
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    const config = loadConfig(testEnv(database.url, prefix, { LOG_LEVEL: 'debug' }));
    const logger = createLogger('debug', { write: (line: string) => lines.push(JSON.parse(line)) });
    running = await startRole('api', config, { logger });
  });
  afterAll(async () => {
    await running?.close();
    await removeRedisPrefix(prefix);
    await database?.drop();
  });

  it('is a debug line without a stack, not a warning', async () => {
    const url = new URL(running.url!);
    const from = lines.length;
    // Requests cut short: a page load reset at once, a query and a subscription whose bodies never finish.
    const json = 'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"query":';
    await Promise.all([
      sendAndReset(url, `GET / HTTP/1.1\r\nHost: ${url.host}\r\nAccept-Encoding: gzip\r\n\r\n`, 1),
      sendAndReset(url, `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\n${json}`, 100),
      sendAndReset(
        url,
        `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n${json}`,
        100,
      ),
    ]);
    const streams = await Promise.all([openStream(url), openStream(url), openStream(url)]);
    // A graphql-ws subscriber whose connection is reset.
    const socket = new WebSocket(`ws://${url.host}/graphql`, 'graphql-transport-ws');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(
      JSON.stringify({ type: 'subscribe', id: '1', payload: { query: 'subscription { ticks { ticker } }' } }),
    );
    // Let Yoga subscribe, then close the tabs the rude way (a reset, as a killed browser does) and the
    // polite way, and publish so that the server writes to the dead sockets.
    await new Promise((resolve) => setTimeout(resolve, 300));
    streams[0]!.resetAndDestroy();
    streams[1]!.destroy();
    streams[2]!.end();
    // ws offers no public reset; its socket does.
    (socket as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
    for (let i = 0; i < 5; i++) {
      await running.deps.publishTicks([{ ticker: 'AAPL', price: 100 + i, time: new Date() }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const after = lines.slice(from);
    expect(after.filter((line) => line.level >= 40)).toEqual([]);
    expect(after.filter((line) => line.err?.stack)).toEqual([]);
    // The disconnects were seen, and said so at debug.
    expect(after.filter((line) => line.level === 20 && /went away/.test(line.msg)).length).toBeGreaterThan(0);
  });
});
