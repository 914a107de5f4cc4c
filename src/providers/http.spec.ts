import { describe, expect, it } from 'vitest';
import { makeExcerpt, retryAfterMs } from './http.ts';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-30T15:00:00.000Z');
  it.each([
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after': 'Mon, 30 Nov 2026 15:00:30 GMT' }, 30_000],
    [{ 'x-ratelimit-reset': String(now / 1000 + 12) }, 12_000],
    [{ 'x-ratelimit-reset': '7' }, 7000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
    [{ 'x-ratelimit-reset': String(now / 1000 - 5) }, undefined],
  ])('reads %j as %s ms', (headers, wanted) => {
    expect(retryAfterMs(new Headers(headers as Record<string, string>), now)).toBe(wanted);
  });
});

describe('makeExcerpt', () => {
  it('is one quoted line of at most 80 characters', () => {
    const text = `<!DOCTYPE html>\n<html>\n  <body>${'x'.repeat(200)}</body></html>`;
    const excerpt = makeExcerpt(text);
    expect(excerpt).not.toContain('\n');
    expect(excerpt).toMatch(/^"<!DOCTYPE html> <html> <body>x+\.\.\."$/);
    expect(JSON.parse(excerpt)).toHaveLength(80);
  });

  it('cuts out secrets wherever the upstream echoes them', () => {
    expect(makeExcerpt('{"error":"bad key abc123 for /quote?token=abc123"}', ['abc123'])).toBe(
      '"{\\"error\\":\\"bad key *** for /quote?token=***\\"}"',
    );
  });

  it('says when there was nothing', () => {
    expect(makeExcerpt('  \n ')).toBe('(empty)');
  });
});
