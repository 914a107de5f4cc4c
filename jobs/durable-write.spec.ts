import { describe, expect, it } from 'vitest';
import { FIRST_HOLD_MS, holdDelay, MAX_HOLD_MS } from './durable-write.ts';
import { scheduledSlot } from './queues.ts';

describe('holdDelay', () => {
  it.each([
    [0, FIRST_HOLD_MS],
    [1, 2 * FIRST_HOLD_MS],
    [2, 4 * FIRST_HOLD_MS],
    [3, 8 * FIRST_HOLD_MS],
    [4, MAX_HOLD_MS],
    [50, MAX_HOLD_MS],
  ])('hold %i waits at most %i ms, and at least half of that', (held, ceiling) => {
    expect(holdDelay(held, () => 1)).toBe(ceiling);
    expect(holdDelay(held, () => 0)).toBe(ceiling / 2);
  });
});

describe('scheduledSlot', () => {
  it.each([
    [
      'a scheduler iteration',
      'repeat:prices-every-interval:1796015324000',
      'prices-every-interval',
      1796015324000,
    ],
    ['a one-off job', '42', undefined, undefined],
    ['another scheduler id in the job id', 'repeat:other:1796015324000', 'prices-every-interval', undefined],
    ['no millis', 'repeat:prices-every-interval:', 'prices-every-interval', undefined],
    ['not a number', 'repeat:prices-every-interval:soon', 'prices-every-interval', undefined],
  ])('%s', (_, id, repeatJobKey, slot) => {
    expect(scheduledSlot({ id, repeatJobKey })?.getTime()).toBe(slot);
  });
});
