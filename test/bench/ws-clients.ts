/**
 * A second process full of WebSocket subscribers, for the graphql-ws row of P1; the counterpart of
 * sse-clients.ts with the same IPC conversation. Each socket speaks graphql-transport-ws (connection_init,
 * then one `subscribe`), or, against the raw baseline server, just listens. Every `next` message is parsed
 * and stamped on arrival. Clock: timeOrigin + now(), which agrees across processes on one machine.
 */
import WebSocket from 'ws';

interface Start {
  type: 'start';
  url: string;
  count: number;
  /** The graphql-ws subscribe payload; absent for the raw server, which sends without being asked. */
  subscribe?: { query: string };
}

const now = () => performance.timeOrigin + performance.now();
const arrivals: number[][] = [];
const sockets: WebSocket[] = [];
let opened = 0;

function open(index: number, start: Start): Promise<void> {
  return new Promise((resolve, reject) => {
    const times: number[] = [];
    arrivals[index] = times;
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
      else {
        opened += 1;
        resolve();
      }
    });
    socket.on('message', (data) => {
      const at = now();
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === 'next') times.push(at);
      else if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: start.subscribe }));
        opened += 1;
        resolve();
      } else if (message.type === 'error') reject(new Error(`socket ${index}: ${JSON.stringify(message)}`));
    });
  });
}

process.on('message', async (message: Start | { type: 'results'; sent: number[] } | { type: 'exit' }) => {
  if (message.type === 'start') {
    try {
      // In batches, so the listen backlog is never the bottleneck.
      for (let i = 0; i < message.count; i += 250) {
        await Promise.all(
          Array.from({ length: Math.min(250, message.count - i) }, (_, j) => open(i + j, message)),
        );
      }
      process.send?.({ type: 'ready', opened });
    } catch (error) {
      process.send?.({ type: 'error', message: String(error) });
    }
  } else if (message.type === 'results') {
    const latencies: number[] = [];
    let missing = 0;
    for (const times of arrivals) {
      message.sent.forEach((sent, k) => {
        const at = times[k];
        if (at === undefined) missing += 1;
        else latencies.push(at - sent);
      });
    }
    process.send?.({ type: 'results', latencies, missing });
  } else {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
