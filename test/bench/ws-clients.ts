/**
 * A second process full of WebSocket subscribers, for the graphql-ws row of P1; the counterpart of
 * sse-clients.ts with the same IPC conversation. Each socket speaks graphql-transport-ws (connection_init,
 * then one `subscribe`), or, against the raw baseline server, just listens. Every `next` message is parsed
 * and stamped on arrival (the conversation with fanout.ts: client-process.ts).
 */
import WebSocket from 'ws';
import { now, type Received, serveClientProcess } from './client-process.ts';

interface Start {
  type: 'start';
  url: string;
  count: number;
  /** The graphql-ws subscribe payload; absent for the raw server, which sends without being asked. */
  subscribe?: { query: string };
}

const sockets: WebSocket[] = [];

function open(index: number, start: Start, received: Received): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(start.url, 'graphql-transport-ws', { perMessageDeflate: false });
    sockets.push(socket);
    socket.on('error', reject);
    socket.on('unexpected-response', (_req, res) =>
      reject(new Error(`socket ${index}: HTTP ${res.statusCode}`)),
    );
    socket.on('close', (code) => {
      if (code !== 1000 && code !== 1001) reject(new Error(`socket ${index} closed with ${code}`));
    });
    socket.on('open', () => {
      if (start.subscribe) socket.send(JSON.stringify({ type: 'connection_init' }));
      else resolve();
    });
    socket.on('message', (data) => {
      const at = now();
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === 'next') received.at.push(at);
      else if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: start.subscribe }));
        resolve();
      } else if (message.type === 'error') reject(new Error(`socket ${index}: ${JSON.stringify(message)}`));
    });
  });
}

serveClientProcess(open, () => {
  for (const socket of sockets) socket.terminate();
});
