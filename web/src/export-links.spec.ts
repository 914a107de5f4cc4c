import { describe, expect, it } from 'vitest';
import { csvExportHref, exportInterval } from './export-links.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('exportInterval', () => {
  it.each([
    [5 * 60_000, 'tick'],
    [6 * HOUR, 'tick'],
    [6 * HOUR + 1, '1m'],
    [7 * DAY, '1m'],
    [30 * DAY, '5m'],
    [366 * DAY, '1h'],
  ])('a window of %i ms exports %s', (span, interval) => {
    expect(exportInterval(span)).toBe(interval);
  });
});

describe('csvExportHref', () => {
  it('asks for the lines shown over the window shown, its last instant included', () => {
    const min = Date.UTC(2026, 11, 1, 14, 30);
    const href = csvExportHref(['AAPL', 'BRK.B'], { min, max: min + HOUR + 0.5 });
    const url = new URL(href, 'http://x');
    expect(url.pathname).toBe('/export/prices.csv');
    expect(url.searchParams.get('tickers')).toBe('AAPL,BRK.B');
    expect(url.searchParams.get('interval')).toBe('tick');
    expect(url.searchParams.get('from')).toBe('2026-12-01T14:30:00.000Z');
    expect(url.searchParams.get('to')).toBe('2026-12-01T15:30:00.002Z');
  });
});
