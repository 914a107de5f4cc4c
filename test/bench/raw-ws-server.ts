/**
 * The WebSocket baseline for P1: the least a Node server can do to fan a tick out over WebSocket. It holds
 * the sockets (`ws`, no compression), hears the tick on Redis pub/sub like the API does, builds one
 * graphql-ws `next` message per tick and sends that same Buffer to every socket. No GraphQL, no protocol
 * state, no per-client work beyond the frame header ws writes.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';

const [redisUrl = 'redis://127.0.0.1:6379', channel = 'bench:ticks'] = process.argv.slice(2);
const server = createServer((_req, res) => {
  res.writeHead(426).end();
});
const sockets = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: true });
const subscriber = new Redis(redisUrl);
await subscriber.subscribe(channel);
subscriber.on('message', (_channel: string, message: string) => {
  const frame = Buffer.from(`{"id":"1","type":"next","payload":${message}}`);
  for (const socket of sockets.clients) socket.send(frame, { binary: false });
});

server.maxConnections = 50_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});
