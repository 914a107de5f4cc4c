import { describe, expect, it } from 'vitest';
import { takeToken } from './token-bucket.ts';

describe('takeToken', () => {
  it('allows a burst up to capacity, then refuses with the wait for the next token', () => {
    let bucket: ReturnType<typeof takeToken>['bucket'] | undefined;
    for (let i = 0; i < 60; i++) {
      const result = takeToken(bucket, 0, 60, 60_000);
      expect(result.allowed).toBe(true);
      bucket = result.bucket;
    }
    const refused = takeToken(bucket, 0, 60, 60_000);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1000 });
  });

  it('refills with time, never beyond capacity', () => {
    const empty = { tokens: 0, updatedMs: 0 };
    expect(takeToken(empty, 500, 60, 60_000).allowed).toBe(false);
    expect(takeToken(empty, 1000, 60, 60_000).allowed).toBe(true);
    expect(takeToken(empty, 10 * 60_000, 60, 60_000).bucket.tokens).toBe(59);
  });
});
