/**
 * The baseline for P1/P2: the least a Node server can do to fan a tick out over SSE. It holds the streams,
 * hears the tick on Redis pub/sub like the API does, and writes the one pre-serialised frame to every
 * stream. No GraphQL, no parsing, no per-client work.
 */
import { createServer, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';

const [redisUrl = 'redis://127.0.0.1:6379', channel = 'bench:ticks'] = process.argv.slice(2);
const streams = new Set<ServerResponse>();
const subscriber = new Redis(redisUrl);
await subscriber.subscribe(channel);
subscriber.on('message', (_channel: string, message: string) => {
  const frame = Buffer.from(`event: next\ndata: ${message}\n\n`);
  for (const res of streams) res.write(frame);
});

const server = createServer((req, res) => {
  if (req.url === '/rss') {
    res.end(String(process.memoryUsage().rss));
    return;
  }
  // The load balancer's start-up probe (P10 puts this server behind Caddy).
  if (req.url === '/healthz') {
    res.end('ok');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  streams.add(res);
  res.on('close', () => streams.delete(res));
});
server.maxConnections = 50_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});
