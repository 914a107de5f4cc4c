import { describe, expect, it } from 'vitest';
import { cardPlaceholders } from './card-placeholders.ts';
import type { WatchlistStock } from './chart-frame.ts';
import { assignSeriesColors } from './palette.ts';

const stock = (ticker: string, extra: Partial<WatchlistStock> = {}): WatchlistStock => ({
  ticker,
  companyName: `${ticker} Inc.`,
  enabled: true,
  low52Week: 10,
  high52Week: 20,
  ...extra,
});

describe('cardPlaceholders', () => {
  it('writes a card per watched stock in the watchlist order, in its line colour, hidden from screen readers', () => {
    const watchlist = [stock('GE'), stock('AMZN', { enabled: false }), stock('NVDA')];
    const html = cardPlaceholders(watchlist);
    const colors = assignSeriesColors(['GE', 'AMZN', 'NVDA'], ['GE', 'NVDA']);
    const cards = html.match(/<article [^>]*>/g) ?? [];
    expect(cards).toEqual([
      `<article class="card" data-placeholder aria-hidden="true" style="--series: ${colors.get('GE')}">`,
      `<article class="card" data-placeholder aria-hidden="true" style="--series: ${colors.get('NVDA')}">`,
    ]);
    expect([...html.matchAll(/<span class="card-ticker">([^<]*)</g)].map((m) => m[1])).toEqual([
      'GE',
      'NVDA',
    ]);
    expect(html).toContain('<span class="card-name">NVDA Inc.</span>');
    // no figures: stand-ins of their width, which the page's style hides
    expect([...html.matchAll(/<span class="card-price">([^<]*)</g)].map((m) => m[1])).toEqual([
      '$000.00',
      '$000.00',
    ]);
  });

  it("holds the 52-week row's room only for a stock with a range, and names a stock without a company by its ticker", () => {
    const html = cardPlaceholders([stock('GE'), stock('INTC', { low52Week: null, companyName: null })]);
    expect(html.match(/class="card-range"/g)).toHaveLength(1);
    expect(html).toContain('<span class="card-name">INTC</span>');
  });

  it('escapes what a provider wrote into a company name', () => {
    const html = cardPlaceholders([stock('X', { companyName: '<img src=x onerror=alert(1)> & "Sons"' })]);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Sons&quot;');
    expect(html).not.toContain('<img');
  });

  it('writes nothing for a watchlist with nothing watched', () => {
    expect(cardPlaceholders([])).toBe('');
    expect(cardPlaceholders([stock('GE', { enabled: false })])).toBe('');
  });
});
