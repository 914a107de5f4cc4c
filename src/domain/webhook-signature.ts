import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a webhook receiver knows a delivery is ours and fresh. Each request carries
 * `X-Stockstreamer-Timestamp` (Unix seconds when this attempt was sent) and
 * `X-Stockstreamer-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with ALERT_WEBHOOK_SECRET>`.
 * The timestamp is inside the signature, so a receiver that refuses timestamps more than a few minutes
 * off its clock refuses replays of old requests; `X-Stockstreamer-Delivery` (the same on every retry of
 * one delivery) lets it drop a replay inside that window, or a retry of a delivery it already took.
 */
export const SIGNATURE_HEADER = 'x-stockstreamer-signature';
export const TIMESTAMP_HEADER = 'x-stockstreamer-timestamp';
export const DELIVERY_HEADER = 'x-stockstreamer-delivery';
/** What {@link verifyWebhookSignature} accepts by default: five minutes either side. */
export const DEFAULT_TOLERANCE_S = 300;

export function signWebhook(secret: string, timestampS: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

/**
 * The receiver's side, as the README documents it: the signature must match (compared in constant time)
 * and the timestamp be within `toleranceS` of the receiver's clock.
 */
export function verifyWebhookSignature(options: {
  secret: string;
  body: string;
  timestamp: string | null | undefined;
  signature: string | null | undefined;
  nowS: number;
  toleranceS?: number;
}): { ok: true } | { ok: false; reason: string } {
  const timestampS = Number(options.timestamp);
  if (!options.timestamp || !/^\d{1,12}$/.test(options.timestamp)) {
    return { ok: false, reason: 'no timestamp' };
  }
  const expected = Buffer.from(signWebhook(options.secret, timestampS, options.body));
  const given = Buffer.from(options.signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match' };
  }
  if (Math.abs(options.nowS - timestampS) > (options.toleranceS ?? DEFAULT_TOLERANCE_S)) {
    return { ok: false, reason: 'timestamp too far from now (a replay?)' };
  }
  return { ok: true };
}
