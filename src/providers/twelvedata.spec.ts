import { describe, expect, it } from 'vitest';
import { fixture } from './fixtures.spec-helper.ts';
import { twelveDataWaitMs } from './twelvedata.ts';

describe('twelvedata rate-limit windows', () => {
  const now = Date.parse('2026-11-30T15:00:45.250Z');
  it('waits for the next minute when the minute’s credits are gone', () => {
    expect(twelveDataWaitMs(fixture<{ message: string }>('twelvedata/error-429.json').message, now)).toBe(
      15_750,
    );
  });
  it('waits for the next UTC day when the day’s credits are gone', () => {
    expect(twelveDataWaitMs('You have run out of API credits for the day.', now)).toBe(
      Date.parse('2026-12-01T00:00:00.000Z') - now + 1000,
    );
  });
});
