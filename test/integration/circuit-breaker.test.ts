import { expect, it } from 'vitest';
import {
  BREAKER_THRESHOLD,
  createRedisCircuitBreaker,
  FIRST_COOL_DOWN_MS,
  MAX_COOL_DOWN_MS,
} from '../../src/providers/circuit-breaker.ts';
import { uniqueName, useTestRedis } from '../helpers/services.ts';

/** The breaker's states in Redis on a manual clock: open, probing, closing, and backing off further. */
const prefix = uniqueName('breaker');
const redis = useTestRedis(prefix);

it('opens after repeated failures, lets one probe through after the cool-down, closes on its success', async () => {
  let now = 1_000_000;
  const breaker = createRedisCircuitBreaker(redis(), `${prefix}:a`, () => now);
  for (let i = 1; i < BREAKER_THRESHOLD; i++) await breaker.record(false);
  expect(await breaker.admit()).toBe(0);
  // A success in between starts the count again: a flaky ticker is not an outage.
  await breaker.record(true);
  for (let i = 0; i < BREAKER_THRESHOLD; i++) await breaker.record(false);
  expect(await breaker.status()).toEqual({
    state: 'open',
    failures: BREAKER_THRESHOLD,
    retryAt: now + FIRST_COOL_DOWN_MS,
  });
  expect(await breaker.admit()).toBe(FIRST_COOL_DOWN_MS);
  now += FIRST_COOL_DOWN_MS;
  // One probe; the others wait for its answer.
  expect(await breaker.admit()).toBe(0);
  expect((await breaker.status()).state).toBe('half-open');
  expect(await breaker.admit()).toBeGreaterThan(0);
  await breaker.record(true);
  expect(await breaker.status()).toEqual({ state: 'closed', failures: 0, retryAt: undefined });
  expect(await breaker.admit()).toBe(0);
});

it('a failed probe opens it again for twice as long, up to the most', async () => {
  let now = 5_000_000;
  const breaker = createRedisCircuitBreaker(redis(), `${prefix}:b`, () => now);
  for (let i = 0; i < BREAKER_THRESHOLD; i++) await breaker.record(false);
  const coolDowns: number[] = [];
  for (let i = 0; i < 10; i++) {
    const wait = await breaker.admit();
    coolDowns.push(wait);
    now += wait;
    expect(await breaker.admit()).toBe(0);
    await breaker.record(false);
  }
  expect(coolDowns.slice(0, 4)).toEqual([
    FIRST_COOL_DOWN_MS,
    2 * FIRST_COOL_DOWN_MS,
    4 * FIRST_COOL_DOWN_MS,
    8 * FIRST_COOL_DOWN_MS,
  ]);
  expect(Math.max(...coolDowns)).toBe(MAX_COOL_DOWN_MS);
});
