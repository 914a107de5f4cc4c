/**
 * A second process full of SSE subscribers, for the fan-out benchmarks (P1, P2, P7). Started by fanout.ts
 * over IPC: opens `count` streams, reports when all are open, records when each stream's k-th event
 * arrives, and, once told each round's send time, answers every latency (the conversation:
 * client-process.ts). With `from: 'tick-time'` (P7) each event is parsed and its first tick's own `time`, the
 * observation instant, is kept beside its arrival: latency is measured from that.
 */
import { request } from 'node:http';
import { now, type Received, serveClientProcess } from './client-process.ts';

interface Start {
  type: 'start';
  url: string;
  count: number;
  method: 'GET' | 'POST';
  body?: string;
  from?: 'sent' | 'tick-time';
}

/** The first tick's own `time` in an SSE frame's GraphQL payload, in epoch milliseconds. */
function tickTimeOf(frame: string): number {
  const data = frame
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .join('\n');
  const payload = JSON.parse(data) as { data: { ticks: { time: string }[] } };
  return Date.parse(payload.data.ticks[0]!.time);
}

function open(index: number, start: Start, received: Received): Promise<void> {
  return new Promise((resolve, reject) => {
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
            if (frame.includes('data:') && !frame.startsWith(':') && !frame.startsWith('event: complete')) {
              received.at.push(at);
              if (start.from === 'tick-time') received.stamp.push(tickTimeOf(frame));
            }
            end = pending.indexOf('\n\n');
          }
        });
      },
    );
    req.on('error', reject);
    req.end(start.body);
  });
}

serveClientProcess(open);
