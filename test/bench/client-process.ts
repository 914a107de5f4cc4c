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

/** One subscriber's events: the instant each arrived and, when measured from the tick's own time, that time. */
export interface Received {
  at: number[];
  stamp: number[];
}

/**
 * How the parent asks for latencies: from the instants it sent each round, or (`since`) from the stamps the
 * events carry, counting only the first `rounds` events stamped at or after `since` — events that arrived
 * while the other subscribers were still connecting are not part of the measure.
 */
type ResultsMessage =
  | { type: 'results'; sent: number[] }
  | { type: 'results'; since: number; rounds: number };

/** Latencies of one subscriber's events, and how many the measure expected but did not see. */
function latenciesOf(received: Received, request: ResultsMessage): { latencies: number[]; missing: number } {
  if ('sent' in request) {
    const latencies: number[] = [];
    let missing = 0;
    request.sent.forEach((sent, k) => {
      const arrived = received.at[k];
      if (arrived === undefined) missing += 1;
      else latencies.push(arrived - sent);
    });
    return { latencies, missing };
  }
  const latencies = received.stamp
    .flatMap((stamp, k) => (stamp >= request.since ? [received.at[k]! - stamp] : []))
    .slice(0, request.rounds);
  return { latencies, missing: request.rounds - latencies.length };
}

/**
 * Serves the conversation. `open(index, start, received)` opens subscriber `index` and records each event
 * it receives in `received`; it resolves once the subscriber is ready for ticks.
 */
export function serveClientProcess<S extends StartMessage>(
  open: (index: number, start: S, received: Received) => Promise<void>,
  onExit: () => void = () => {},
): void {
  const arrivals: Received[] = [];
  process.on('message', async (message: S | ResultsMessage | { type: 'exit' }) => {
    if (message.type === 'start') {
      const start = message as S;
      try {
        // In batches, so the listen backlog is never the bottleneck.
        for (let i = 0; i < start.count; i += 250) {
          await Promise.all(
            Array.from({ length: Math.min(250, start.count - i) }, (_, j) => {
              const received: Received = { at: [], stamp: [] };
              arrivals[i + j] = received;
              return open(i + j, start, received);
            }),
          );
        }
        process.send?.({ type: 'ready', opened: arrivals.length });
      } catch (error) {
        process.send?.({ type: 'error', message: String(error) });
      }
    } else if (message.type === 'results') {
      const latencies: number[] = [];
      let missing = 0;
      for (const received of arrivals) {
        const one = latenciesOf(received, message as ResultsMessage);
        latencies.push(...one.latencies);
        missing += one.missing;
      }
      process.send?.({ type: 'results', latencies, missing });
    } else {
      onExit();
      process.exit(0);
    }
  });
}
