import { createHash } from 'node:crypto';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Config } from '../src/config.ts';
import { type WebhookFiring, webhookBody } from '../src/domain/webhook-payload.ts';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../src/domain/webhook-signature.ts';
import { type PostWebhook, WebhookFailedError, WebhookRefusedError } from '../src/webhooks/post-webhook.ts';

/**
 * One firing for one webhook. The job names its webhook by a hash of the URL, never the URL itself: job
 * data can be edited in Bull Board, and must not be able to point a worker at another address.
 */
export interface DeliveryJobData {
  hook: string;
  firing: WebhookFiring;
}

export function webhookId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}

/** The delivery's id: the same on every retry and for every worker that queues it (BullMQ drops a repeat). */
export function deliveryJobId(firingId: number, url: string): string {
  return `firing-${firingId}-${webhookId(url)}`;
}

export interface DeliveryProcessorDeps {
  webhooks: Config['webhooks'];
  post: PostWebhook;
  now(): Date;
}

/**
 * Sends one delivery. A failure is thrown, so BullMQ retries it with exponential backoff; when the
 * attempts are spent the job stays in the queue's failed set with the reason: the dead letter, shown in
 * Bull Board (where an admin can retry it). A target refused by the SSRF rule, a webhook no longer
 * configured, or a 4xx other than 408 and 429 will not change on a retry and goes there at once.
 */
export function createDeliveryProcessor(deps: DeliveryProcessorDeps) {
  const targets = new Map(deps.webhooks.targets.map((target) => [webhookId(target.url), target]));
  return async (job: Job<DeliveryJobData>): Promise<{ status: number }> => {
    const target = targets.get(job.data.hook);
    if (!target) throw new UnrecoverableError('this webhook is no longer in ALERT_WEBHOOKS');
    if (!deps.webhooks.secret) throw new UnrecoverableError('ALERT_WEBHOOK_SECRET is not set');
    const payload = webhookBody(target.preset, job.data.firing);
    const timestampS = Math.floor(deps.now().getTime() / 1000);
    try {
      return await deps.post({
        url: target.url,
        body: payload.body,
        headers: {
          ...payload.headers,
          'content-type': payload.contentType,
          'user-agent': 'stockstreamer-alerts',
          [TIMESTAMP_HEADER]: String(timestampS),
          [SIGNATURE_HEADER]: signWebhook(deps.webhooks.secret, timestampS, payload.body),
          [DELIVERY_HEADER]: String(job.id),
        },
      });
    } catch (error) {
      if (error instanceof WebhookRefusedError) throw new UnrecoverableError(`refused: ${error.message}`);
      if (
        error instanceof WebhookFailedError &&
        error.status !== undefined &&
        error.status >= 400 &&
        error.status < 500 &&
        error.status !== 408 &&
        error.status !== 429
      ) {
        throw new UnrecoverableError(error.message);
      }
      throw error;
    }
  };
}
