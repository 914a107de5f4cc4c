import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe('the market calendar: a closed market is shown and not polled (MARKET_CALENDAR=follow)', () => {
  let app: TestApp;

  beforeAll(async () => {
    // Saturday noon in New York.
    app = await startTestApp({ env: { MARKET_CALENDAR: 'follow' }, start: new Date('2026-12-05T17:00:00Z') });
  });
  afterAll(() => app?.stop());

  async function market() {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ market { open followsCalendar nextOpen lastClose } }' }),
    });
    return ((await response.json()) as { data: { market: Record<string, unknown> } }).data.market;
  }

  it('asks for no price at the weekend, and says when the market opens', async () => {
    // (The scheduler's first job ran at start for its own slot, on the real clock: counted before.)
    const before = await app.deps.ticks.countTicks();
    expect(await app.runPriceJob()).toMatchObject({ fetched: 0, stored: 0 });
    expect(await app.deps.ticks.countTicks()).toBe(before);
    expect(await market()).toEqual({
      open: false,
      followsCalendar: true,
      nextOpen: '2026-12-07T14:30:00.000Z',
      lastClose: '2026-12-04T21:00:00.000Z',
    });
  });

  it('asks again once the session opens on Monday', async () => {
    app.clock.set(new Date('2026-12-07T15:00:00Z'));
    expect(await app.runPriceJob()).toMatchObject({ stored: 6 });
    expect(await market()).toMatchObject({ open: true, nextOpen: '2026-12-08T14:30:00.000Z' });
  });

  it('is not asked on a holiday (Christmas)', async () => {
    app.clock.set(new Date('2026-12-25T16:00:00Z'));
    const before = await app.deps.ticks.countTicks();
    expect(await app.runPriceJob()).toMatchObject({ stored: 0 });
    expect(await app.deps.ticks.countTicks()).toBe(before);
  });
});
