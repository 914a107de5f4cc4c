import { describe, expect, it, vi } from 'vitest';
import {
  axisShift,
  EXCHANGE_TIME_ZONE,
  fromAxisTime,
  loadTimeZoneChoice,
  saveTimeZoneChoice,
  timeZoneOf,
  toAxisTime,
  zoneOffsetMs,
} from './time-zone.ts';

const HOUR = 3_600_000;
const winter = Date.parse('2026-01-15T15:30:00.250Z');
const summer = Date.parse('2026-07-15T15:30:00Z');

describe('zoneOffsetMs', () => {
  it("is New York's offset from UTC, standard time in winter and daylight time in summer", () => {
    expect(zoneOffsetMs(EXCHANGE_TIME_ZONE, winter)).toBe(-5 * HOUR);
    expect(zoneOffsetMs(EXCHANGE_TIME_ZONE, summer)).toBe(-4 * HOUR);
  });

  it('knows zones east of UTC and off the hour', () => {
    expect(zoneOffsetMs('Europe/Berlin', winter)).toBe(HOUR);
    expect(zoneOffsetMs('Asia/Kolkata', summer)).toBe(5.5 * HOUR);
    expect(zoneOffsetMs('UTC', summer)).toBe(0);
  });

  it('changes at the instant the clocks change (New York, 8 March 2026, 02:00 EST)', () => {
    const change = Date.parse('2026-03-08T07:00:00Z');
    expect(zoneOffsetMs(EXCHANGE_TIME_ZONE, change - 1)).toBe(-5 * HOUR);
    expect(zoneOffsetMs(EXCHANGE_TIME_ZONE, change)).toBe(-4 * HOUR);
  });
});

describe('axisShift', () => {
  it("is zero for the viewer's own clock", () => {
    expect(axisShift('viewer', winter, 'Europe/Berlin')).toBe(0);
  });

  it("moves a Berlin viewer's axis six hours back in winter, so 16:30 there reads 10:30 in New York", () => {
    const shift = axisShift('exchange', winter, 'Europe/Berlin');
    expect(shift).toBe(-6 * HOUR);
    const berlinWall = new Date(winter + shift + zoneOffsetMs('Europe/Berlin', winter)).toISOString();
    expect(berlinWall).toBe('2026-01-15T10:30:00.250Z');
  });

  it('is zero for a viewer already in New York, and follows both zones through the year', () => {
    expect(axisShift('exchange', summer, EXCHANGE_TIME_ZONE)).toBe(0);
    expect(axisShift('exchange', summer, 'UTC')).toBe(-4 * HOUR);
    expect(axisShift('exchange', winter, 'UTC')).toBe(-5 * HOUR);
  });
});

describe('toAxisTime and fromAxisTime', () => {
  it('take an instant to the axis and back, all year and across both clock changes', () => {
    const from = Date.parse('2026-01-01T00:00:00Z');
    for (let ms = from; ms < from + 365 * 24 * HOUR; ms += 7 * HOUR + 13_000) {
      for (const zone of ['Europe/Berlin', 'Asia/Kolkata', 'UTC', 'Australia/Sydney']) {
        const x = toAxisTime('exchange', ms, zone);
        // the hour a clock change repeats or skips is the one place an axis value has two instants
        const back = fromAxisTime('exchange', x, zone);
        expect(
          Math.abs(back - ms) === 0 || Math.abs(back - ms) === HOUR,
          `${zone} ${new Date(ms).toISOString()}`,
        ).toBe(true);
      }
    }
    expect(toAxisTime('viewer', winter, 'Europe/Berlin')).toBe(winter);
    expect(fromAxisTime('viewer', winter, 'Europe/Berlin')).toBe(winter);
  });

  it('take an instant to the axis and back exactly away from the clock changes', () => {
    for (const ms of [winter, summer]) {
      expect(fromAxisTime('exchange', toAxisTime('exchange', ms, 'Europe/Berlin'), 'Europe/Berlin')).toBe(ms);
    }
  });
});

describe('the cost per point (the axis moves every point of every draw)', () => {
  it("asks Intl nothing for the viewer's own clock", () => {
    const made = vi.spyOn(Intl, 'DateTimeFormat');
    try {
      for (let i = 0; i < 10_000; i++) toAxisTime('viewer', winter + i * 5000);
      expect(made).not.toHaveBeenCalled();
    } finally {
      made.mockRestore();
    }
  });

  it("formats once per zone and quarter hour for the exchanges' clock, not once per point", () => {
    const parts = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    try {
      const from = Date.parse('2027-02-01T10:00:00Z'); // not asked before in this file
      for (let i = 0; i < 720; i++)
        fromAxisTime('exchange', toAxisTime('exchange', from + i * 5000, 'Europe/Berlin'), 'Europe/Berlin');
      // an hour of 5 s points: five quarter hours (the way back's first guess can reach the one before) at
      // the instants, five more at the shifted axis values the way back starts from, in two zones: at most
      // 20 formats, where one per offset asked would be 4,320
      expect(parts.mock.calls.length).toBeLessThanOrEqual(20);
    } finally {
      parts.mockRestore();
    }
  });
});

describe('the remembered choice', () => {
  it("formats in New York for the exchanges' clock and in the default zone otherwise", () => {
    expect(timeZoneOf('exchange')).toBe(EXCHANGE_TIME_ZONE);
    expect(timeZoneOf('viewer')).toBeUndefined();
  });

  it('round-trips through storage, and falls back to the viewer when storage is missing, odd or refuses', () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => map.set(k, v),
    };
    expect(loadTimeZoneChoice(storage)).toBe('viewer');
    saveTimeZoneChoice(storage, 'exchange');
    expect(loadTimeZoneChoice(storage)).toBe('exchange');
    map.set([...map.keys()][0]!, 'Mars/Olympus');
    expect(loadTimeZoneChoice(storage)).toBe('viewer');
    expect(loadTimeZoneChoice(undefined)).toBe('viewer');
    const refusing = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(loadTimeZoneChoice(refusing)).toBe('viewer');
    expect(() => saveTimeZoneChoice(refusing, 'exchange')).not.toThrow();
  });
});
