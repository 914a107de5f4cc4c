import { describe, expect, it } from 'vitest';
import {
  createFrameCookieWriter,
  FRAME_COOKIE,
  frameCookieValue,
  frameShows,
  parseFrameCookie,
  type ShownView,
} from './first-frame.ts';

const knownZones = new Set(['UTC', 'Europe/Berlin', 'America/New_York']);
const isZone = (zone: string) => knownZones.has(zone);

describe('parseFrameCookie', () => {
  it('reads the size and clock the page wrote, among other cookies', () => {
    const value = frameCookieValue(1206.4, 440, 'Europe/Berlin');
    expect(value).toBe('1206x440~Europe/Berlin');
    expect(parseFrameCookie(`a=1; ${FRAME_COOKIE}=${value}; b=2`, isZone)).toEqual({
      width: 1206,
      height: 440,
      timeZone: 'Europe/Berlin',
    });
  });

  it.each([
    ['no header', undefined],
    ['no such cookie', 'other=1206x440~UTC'],
    ['not the format', `${FRAME_COOKIE}=wide`],
    ['a negative size', `${FRAME_COOKIE}=-5x440~UTC`],
    ['too narrow', `${FRAME_COOKIE}=120x440~UTC`],
    ['too wide', `${FRAME_COOKIE}=9000x440~UTC`],
    ['too tall', `${FRAME_COOKIE}=1206x2400~UTC`],
    ['a zone the server does not know', `${FRAME_COOKIE}=1206x440~Mars/Olympus`],
    ['markup in the zone', `${FRAME_COOKIE}=1206x440~"><script>`],
    ['a long zone', `${FRAME_COOKIE}=1206x440~${'A'.repeat(80)}`],
  ])('is null for %s', (_what, header) => {
    expect(parseFrameCookie(header, isZone)).toBeNull();
  });
});

describe('frameShows', () => {
  const defaults: ShownView = {
    range: '7d',
    mode: 'price',
    logScale: false,
    bandsOn: true,
    hiddenLines: 0,
    timeZone: 'UTC',
  };
  const frame = (times: 'on' | 'off', zone = '') => ({ dataset: { times, zone } });

  it('is true for the default view, on the frame clock or with no times drawn', () => {
    expect(frameShows(frame('on', 'UTC'), defaults)).toBe(true);
    expect(frameShows(frame('off'), { ...defaults, timeZone: 'Europe/Berlin' })).toBe(true);
    expect(frameShows(frame('on', 'Europe/Berlin'), { ...defaults, timeZone: undefined })).toBe(true);
  });

  it.each<[string, Partial<ShownView>]>([
    ['another range', { range: '30d' }],
    ['% Compare', { mode: 'percent' }],
    ['a log scale', { logScale: true }],
    ['bands off', { bandsOn: false }],
    ['a hidden line', { hiddenLines: 1 }],
  ])('is false for %s', (_what, change) => {
    expect(frameShows(frame('off'), { ...defaults, ...change })).toBe(false);
  });

  it('is false when its times read another clock', () => {
    expect(frameShows(frame('on', 'Europe/Berlin'), defaults)).toBe(false);
  });
});

describe('createFrameCookieWriter', () => {
  it('writes only when the size or clock changed, and never a size no chart has', () => {
    const doc = { cookie: '' };
    const writes: string[] = [];
    Object.defineProperty(doc, 'cookie', { set: (value: string) => writes.push(value) });
    const write = createFrameCookieWriter(doc);
    write(1206, 440, 'UTC');
    write(1206, 440, 'UTC');
    write(1206.2, 440, 'UTC');
    write(0, 0, 'UTC'); // a hidden chart
    write(1000, 440, 'UTC');
    write(1000, 440, 'America/New_York');
    expect(writes).toEqual([
      `${FRAME_COOKIE}=1206x440~UTC; path=/; max-age=31536000; samesite=lax`,
      `${FRAME_COOKIE}=1000x440~UTC; path=/; max-age=31536000; samesite=lax`,
      `${FRAME_COOKIE}=1000x440~America/New_York; path=/; max-age=31536000; samesite=lax`,
    ]);
  });
});
