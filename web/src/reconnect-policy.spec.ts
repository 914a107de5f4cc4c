import { describe, expect, it } from 'vitest';
import {
  MAX_RETRY_MS,
  OFFLINE_AFTER_FAILURES,
  retryDelayMs,
  statusWhileRetrying,
} from './reconnect-policy.ts';

describe('retryDelayMs', () => {
  it.each([
    // attempt, random, delay: between half and all of min(1 s · 2^attempt, 30 s)
    [0, 0, 500],
    [0, 0.999_999, 1000],
    [1, 0, 1000],
    [1, 0.5, 1500],
    [3, 0.999_999, 8000],
    [4, 0, 8000],
    [5, 0.999_999, MAX_RETRY_MS], // 32 s, capped
    [50, 0, MAX_RETRY_MS / 2], // no overflow however long the outage
    [-1, 0, 500], // nonsense in, first step out
  ])('attempt %s with random %s waits %s ms', (attempt, random, expected) => {
    expect(retryDelayMs(attempt, () => random)).toBe(expected);
  });
});

describe('statusWhileRetrying', () => {
  it.each([
    [0, 'reconnecting'],
    [OFFLINE_AFTER_FAILURES - 1, 'reconnecting'],
    [OFFLINE_AFTER_FAILURES, 'offline'],
    [100, 'offline'],
  ])('after %s failures shows %s', (attempt, expected) => {
    expect(statusWhileRetrying(attempt)).toBe(expected);
  });
});
