import type { Redis } from 'ioredis';
import type { AlertFiring } from './db/alert-repository.ts';

/** The Redis pub/sub channel that carries firings from the alert workers to every API process. */
export function alertsChannel(prefix: string): string {
  return `${prefix}:alerts`;
}

export type AlertPublisher = (firings: readonly AlertFiring[]) => Promise<void>;

/** The wire shape of a firing on the channel (and in the `alerts` subscription's source). */
export interface PublishedFiring {
  id: number;
  ruleId: number;
  ticker: string;
  kind: string;
  threshold: number | null;
  windowS: number | null;
  price: number;
  time: string;
}

export function createAlertPublisher(redis: Redis, prefix: string): AlertPublisher {
  const channel = alertsChannel(prefix);
  return async (firings) => {
    if (firings.length === 0) return;
    const message: PublishedFiring[] = firings.map((f) => ({ ...f, time: f.time.toISOString() }));
    await redis.publish(channel, JSON.stringify(message));
  };
}

/** Reads a batch published by {@link createAlertPublisher}, dropping anything malformed. */
export function parsePublishedFirings(payload: unknown): AlertFiring[] {
  if (!Array.isArray(payload)) return [];
  const firings: AlertFiring[] = [];
  for (const item of payload as Partial<PublishedFiring>[]) {
    if (typeof item?.id !== 'number' || typeof item.ticker !== 'string' || typeof item.price !== 'number')
      continue;
    const time = new Date(String(item.time));
    if (Number.isNaN(time.getTime())) continue;
    firings.push({
      id: item.id,
      ruleId: Number(item.ruleId),
      ticker: item.ticker,
      kind: item.kind as AlertFiring['kind'],
      threshold: typeof item.threshold === 'number' ? item.threshold : null,
      windowS: typeof item.windowS === 'number' ? item.windowS : null,
      price: item.price,
      time,
    });
  }
  return firings;
}
