/**
 * The IPC conversation of a subscriber process (sse-clients.ts, ws-clients.ts) with fanout.ts: on `start`,
 * open `count` subscribers in batches and answer `ready`; on `results`, given each round's send instant,
 * answer every subscriber's latency per round (and how many arrivals are missing); on `exit`, stop.
 * Clock: timeOrigin + now(), which agrees across processes on one machine.
 */
export const now = () => performance.timeOrigin + performance.now();

interface StartMessage {
  type: 'start';
  count: number;
}

/**
 * Serves the conversation. `open(index, start, arrivals)` opens subscriber `index` and pushes the instant
 * of each event it receives onto `arrivals`; it resolves once the subscriber is ready for ticks.
 */
export function serveClientProcess<S extends StartMessage>(
  open: (index: number, start: S, arrivals: number[]) => Promise<void>,
  onExit: () => void = () => {},
): void {
  const arrivals: number[][] = [];
  process.on('message', async (message: S | { type: 'results'; sent: number[] } | { type: 'exit' }) => {
    if (message.type === 'start') {
      const start = message as S;
      try {
        // In batches, so the listen backlog is never the bottleneck.
        for (let i = 0; i < start.count; i += 250) {
          await Promise.all(
            Array.from({ length: Math.min(250, start.count - i) }, (_, j) => {
              const times: number[] = [];
              arrivals[i + j] = times;
              return open(i + j, start, times);
            }),
          );
        }
        process.send?.({ type: 'ready', opened: arrivals.length });
      } catch (error) {
        process.send?.({ type: 'error', message: String(error) });
      }
    } else if (message.type === 'results') {
      const { sent } = message as { sent: number[] };
      const latencies: number[] = [];
      let missing = 0;
      for (const times of arrivals) {
        sent.forEach((at, k) => {
          const arrived = times[k];
          if (arrived === undefined) missing += 1;
          else latencies.push(arrived - at);
        });
      }
      process.send?.({ type: 'results', latencies, missing });
    } else {
      onExit();
      process.exit(0);
    }
  });
}
