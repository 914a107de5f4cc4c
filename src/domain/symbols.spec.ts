import { describe, expect, it } from 'vitest';
import { normalizeTicker, parseSymbolList } from './symbols.ts';

describe('normalizeTicker', () => {
  it.each([
    ['AAPL', 'AAPL'],
    [' aapl ', 'AAPL'],
    ['brk.b', 'BRK.B'],
    ['RDS-A', 'RDS-A'],
    ['A', 'A'],
    ['ABCDEFGHIJ', 'ABCDEFGHIJ'],
  ])('accepts %j as %s', (raw, ticker) => {
    expect(normalizeTicker(raw)).toEqual({ ok: true, ticker });
  });

  it.each(['', '1ABC', 'ABCDEFGHIJK', "A'; DROP TABLE stock_prices;--", 'A B', '.A', 'ÄPPLE', 'A/B'])(
    'rejects %j with what is wanted',
    (raw) => {
      const result = normalizeTicker(raw);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toMatch(/wanted a letter then up to 9/);
    },
  );
});

describe('parseSymbolList', () => {
  it('keeps order and drops duplicates', () => {
    expect(parseSymbolList('nflx,GE, ge ,AAPL')).toEqual({ ok: true, symbols: ['NFLX', 'GE', 'AAPL'] });
  });
  it('names the bad entry', () => {
    expect(parseSymbolList('GE,12')).toEqual({
      ok: false,
      error: expect.stringContaining('"12" is not a ticker'),
    });
  });
  it('wants at least one', () => {
    expect(parseSymbolList(',,')).toEqual({ ok: false, error: expect.stringContaining('at least one') });
  });
});
