/**
 * A second process full of SSE subscribers, for the fan-out benchmarks (P1, P2). Started by fanout.ts over
 * IPC: opens `count` streams, reports when all are open, records when each stream's k-th event arrives,
 * and, once told each round's send time, answers every latency. Clock: timeOrigin + now(), which agrees
 * across processes on one machine.
 */
import { request } from 'node:http';

interface Start {
  type: 'start';
  url: string;
  count: number;
  method: 'GET' | 'POST';
  body?: string;
}

const now = () => performance.timeOrigin + performance.now();
const arrivals: number[][] = [];
let opened = 0;

function open(index: number, start: Start): Promise<void> {
  return new Promise((resolve, reject) => {
    const times: number[] = [];
    arrivals[index] = times;
    const req = request(
      start.url,
      {
        method: start.method,
        agent: false,
        headers: {
          accept: 'text/event-stream',
          ...(start.body
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(start.body) }
            : {}),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`stream ${index}: HTTP ${res.statusCode}`));
          return;
        }
        opened += 1;
        resolve();
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = now();
          pending += chunk;
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            const frame = pending.slice(0, end);
            pending = pending.slice(end + 2);
            if (frame.includes('data:') && !frame.startsWith(':') && !frame.startsWith('event: complete'))
              times.push(at);
            end = pending.indexOf('\n\n');
          }
        });
      },
    );
    req.on('error', reject);
    req.end(start.body);
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
    process.exit(0);
  }
});
