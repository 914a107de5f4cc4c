import type { Clock } from '../../src/clock.ts';

/**
 * Compressed time for a few cooperating actors (a price scheduler, a logo job, a 52-week job): each is one
 * async chain that either works (real HTTP, real Redis) or sleeps on this clock. When every live actor
 * sleeps, the clock jumps to the earliest wake-up. Ten minutes of a provider's plan run in seconds, in the
 * order they would have, with no wall-clock threshold anywhere. An actor must call `done()` when it ends.
 */
export interface VirtualTime {
  clock: Clock;
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  done(): void;
  /** Runs until every actor is done or the next wake-up is past `untilMs`. */
  run(untilMs: number): Promise<void>;
}

export function createVirtualTime(start: Date, actors: number): VirtualTime {
  let now = start.getTime();
  let live = actors;
  let order = 0;
  const sleepers: { at: number; order: number; wake: () => void }[] = [];
  let changed: (() => void) | undefined;
  const notify = () => changed?.();

  return {
    clock: { now: () => new Date(now) },
    nowMs: () => now,
    sleep(ms) {
      return new Promise<void>((wake) => {
        sleepers.push({ at: now + Math.max(0, ms), order: order++, wake });
        notify();
      });
    },
    done() {
      live -= 1;
      notify();
    },
    async run(untilMs) {
      for (;;) {
        while (sleepers.length < live) {
          await new Promise<void>((resolve) => {
            changed = resolve;
          });
        }
        if (live === 0) return;
        sleepers.sort((a, b) => a.at - b.at || a.order - b.order);
        const next = sleepers[0]!;
        if (next.at > untilMs) return;
        sleepers.shift();
        now = Math.max(now, next.at);
        next.wake();
      }
    },
  };
}
