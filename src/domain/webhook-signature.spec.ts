import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.ts';

const secret = 'a-secret-of-16-chars';
const body = '{"event":"alert.fired"}';
const sent = 1_796_000_000;
const signed = { secret, body, timestamp: String(sent), signature: signWebhook(secret, sent, body) };

describe('webhook signatures', () => {
  it('accepts a fresh, untouched delivery', () => {
    expect(verifyWebhookSignature({ ...signed, nowS: sent + 299 })).toEqual({ ok: true });
  });

  it.each([
    ['an altered body', { body: body.replace('fired', 'fake') }, 'signature does not match'],
    ['another secret', { secret: 'another-secret-123' }, 'signature does not match'],
    [
      'a timestamp moved forward (a replay made fresh)',
      { timestamp: String(sent + 600) },
      'signature does not match',
    ],
    ['an old request replayed', { nowS: sent + 301 }, 'timestamp too far from now (a replay?)'],
    ['no timestamp', { timestamp: undefined }, 'no timestamp'],
    ['no signature', { signature: undefined }, 'signature does not match'],
  ])('refuses %s', (_, change, reason) => {
    expect(verifyWebhookSignature({ ...signed, nowS: sent, ...change })).toEqual({ ok: false, reason });
  });
});
