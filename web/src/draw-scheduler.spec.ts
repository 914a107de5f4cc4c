import { describe, expect, it } from 'vitest';
import { createDrawScheduler } from './draw-scheduler.ts';

/** Lets every promise callback queued so far run. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A scheduler on a hand-driven frame clock, with draws that finish when the test says. */
function harness() {
  const frames: (() => void)[] = [];
  const finish: (() => void)[] = [];
  const errors: unknown[] = [];
  let started = 0;
  let held = false;
  let fail = false;
  const scheduler = createDrawScheduler({
    requestFrame: (fn) => frames.push(fn),
    draw: () => {
      started++;
      if (fail) return Promise.reject(new Error('render failed'));
      return new Promise<void>((resolve) => finish.push(resolve));
    },
    held: () => held,
    onError: (error) => errors.push(error),
  });
  const frame = async () => {
    frames.shift()?.();
    await Promise.resolve();
    await Promise.resolve();
  };
  return {
    scheduler,
    frames,
    finish,
    errors,
    frame,
    started: () => started,
    hold: (on: boolean) => {
      held = on;
    },
    failing: () => {
      fail = true;
    },
  };
}

describe('createDrawScheduler', () => {
  it('draws a burst of changes once, on the next animation frame', async () => {
    const h = harness();
    h.scheduler.schedule();
    h.scheduler.schedule();
    h.scheduler.schedule();
    expect(h.frames).toHaveLength(1);
    expect(h.started()).toBe(0);
    await h.frame();
    expect(h.started()).toBe(1);
  });

  it('runs one draw at a time: the next waits for the one before to finish', async () => {
    const h = harness();
    h.scheduler.schedule();
    await h.frame();
    h.scheduler.schedule();
    await h.frame();
    expect(h.started()).toBe(1);
    h.finish.shift()!();
    await settled();
    expect(h.started()).toBe(2);
  });

  it('holds drawing during a drag and draws what was asked for once it resumes', async () => {
    const h = harness();
    h.hold(true);
    h.scheduler.schedule();
    await h.frame();
    expect(h.started()).toBe(0);
    expect(h.frames).toHaveLength(0);
    h.hold(false);
    h.scheduler.resume();
    expect(h.frames).toHaveLength(1);
    await h.frame();
    expect(h.started()).toBe(1);
  });

  it('resuming with nothing asked for draws nothing', async () => {
    const h = harness();
    h.scheduler.schedule();
    await h.frame();
    h.scheduler.resume();
    expect(h.frames).toHaveLength(0);
  });

  it('reports a failed draw and keeps drawing after it', async () => {
    const h = harness();
    h.failing();
    h.scheduler.schedule();
    await h.frame();
    await settled();
    expect(h.errors).toHaveLength(1);
    h.scheduler.schedule();
    await h.frame();
    await settled();
    expect(h.started()).toBe(2);
  });
});
