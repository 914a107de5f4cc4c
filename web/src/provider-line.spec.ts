import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProviderStatus } from './graphql-api.ts';
import {
  describeProvider,
  formatEvery,
  HISTORY_FILL_EVERY_MS,
  PROVIDER_STATUS_EVERY_MS,
  watchProvider,
} from './provider-line.ts';
import { systemTimers } from './timers.ts';

const status = (over: Partial<ProviderStatus> = {}): ProviderStatus =>
  ({
    name: 'simulated',
    circuit: 'CLOSED',
    plan: null,
    priceEveryMs: 5000,
    stream: 'OFF',
    nextProbeAt: null,
    historyFill: { filling: false, percent: 100 },
    market: { open: true, lastClose: null, nextOpen: null, followsCalendar: false },
    ...over,
  }) as ProviderStatus;

describe('the provider line', () => {
  it.each([
    [5000, '5 s'],
    [8300, '8.3 s'],
    [66_000, '66 s'],
    [150_000, '2.5 min'],
    [8_280_000, '2.3 h'],
  ])('says a cadence of %i ms as %s', (ms, text) => {
    expect(formatEvery(ms)).toBe(text);
  });

  it('says the cadence, the stream and a fill under way', () => {
    expect(
      describeProvider(status({ stream: 'CONNECTED', historyFill: { filling: true, percent: 42 } } as never)),
    ).toEqual({
      text: 'simulated · a price each every 5 s · streaming · filling history: 42 %',
      circuit: 'CLOSED',
      market: 'open',
    });
  });

  it('says when the provider is not answering', () => {
    expect(describeProvider(status({ circuit: 'HALF_OPEN' } as never)).text).toBe(
      'simulated · not answering; trying again now',
    );
  });

  it('says the market is closed, for a provider that follows the calendar', () => {
    const line = describeProvider(
      status({ market: { open: false, lastClose: null, nextOpen: null, followsCalendar: true } } as never),
    );
    expect(line.market).toBe('closed');
    expect(line.text).toBe('simulated · market closed');
  });
});

describe('watching the provider', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function harness(answers: (() => ProviderStatus)[], reloadFails = () => false) {
    const seen = { asks: 0, reloads: 0, sessions: 0, history: [] as string[], errors: [] as unknown[] };
    const watch = watchProvider({
      status: async () => answers[Math.min(seen.asks++, answers.length - 1)]!(),
      show: () => {},
      showHistory: (state) => seen.history.push(state),
      onSessionChange: () => seen.sessions++,
      reloadHistory: async () => {
        seen.reloads++;
        if (reloadFails()) throw new Error('HTTP 500');
      },
      onError: (error) => seen.errors.push(error),
      timers: systemTimers,
    });
    return { seen, watch };
  }

  it('asks every second while history fills, reads the window again once it ends, then every half minute', async () => {
    const filling = () => status({ historyFill: { filling: true, percent: 50 } } as never);
    const { seen, watch } = harness([filling, filling, () => status()]);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toMatchObject({ asks: 1, reloads: 0, history: ['filling'] });
    await vi.advanceTimersByTimeAsync(HISTORY_FILL_EVERY_MS);
    expect(seen.asks).toBe(2);
    await vi.advanceTimersByTimeAsync(HISTORY_FILL_EVERY_MS);
    expect(seen).toMatchObject({ asks: 3, reloads: 1, history: ['filling', 'filling', 'filled'] });
    await vi.advanceTimersByTimeAsync(PROVIDER_STATUS_EVERY_MS - 1);
    expect(seen.asks).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toMatchObject({ asks: 4, reloads: 1 });
    watch.stop();
  });

  it('a fill that ended before the first answer still gets its window read again', async () => {
    const { seen, watch } = harness([() => status()]);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toMatchObject({ reloads: 1, history: ['filled'] });
    watch.stop();
  });

  it('a failed read keeps it filling, so the next answer tries again', async () => {
    let fail = true;
    const { seen, watch } = harness([() => status()], () => fail);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.history).toEqual([]);
    expect(seen.errors).toHaveLength(1);
    fail = false;
    await vi.advanceTimersByTimeAsync(HISTORY_FILL_EVERY_MS);
    expect(seen).toMatchObject({ reloads: 2, history: ['filled'] });
    watch.stop();
  });

  it('reads the watchlist again when the market opens or closes, not on the first answer', async () => {
    let open = true;
    const { seen, watch } = harness([
      () => status({ market: { open, lastClose: null, nextOpen: null, followsCalendar: true } } as never),
    ]);
    await vi.advanceTimersByTimeAsync(PROVIDER_STATUS_EVERY_MS);
    expect(seen.sessions).toBe(0);
    open = false;
    await vi.advanceTimersByTimeAsync(PROVIDER_STATUS_EVERY_MS);
    expect(seen.sessions).toBe(1);
    await vi.advanceTimersByTimeAsync(PROVIDER_STATUS_EVERY_MS);
    expect(seen.sessions).toBe(1);
    watch.stop();
  });
});
