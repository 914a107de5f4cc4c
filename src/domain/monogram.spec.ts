import { describe, expect, it } from 'vitest';
import { monogramPath, renderMonogramSvg } from './monogram.ts';

describe('renderMonogramSvg', () => {
  it('draws the ticker letters in an SVG', () => {
    const svg = renderMonogramSvg('AAPL')!;
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('>AAPL</text>');
  });
  it('drops punctuation from the letters', () => {
    expect(renderMonogramSvg('BRK.B')).toContain('>BRKB</text>');
  });
  it('refuses anything that is not a ticker, so no markup can be injected', () => {
    expect(renderMonogramSvg('<script>')).toBeUndefined();
    expect(renderMonogramSvg('aapl')).toBeUndefined();
  });
  it('is served under /logos', () => {
    expect(monogramPath('AAPL')).toBe('/logos/AAPL.svg');
  });
});
