/** Payload shapes for alert webhooks: our signed JSON, Slack's and Discord's incoming webhooks, ntfy. */
export const WEBHOOK_PRESETS = ['json', 'slack', 'discord', 'ntfy'] as const;
export type WebhookPreset = (typeof WEBHOOK_PRESETS)[number];
/** A firing as webhooks carry it (the `json` preset's body, and the source of the others' text). */
export interface WebhookFiring {
  id: number;
  ruleId: number;
  ticker: string;
  kind: string;
  threshold: number | null;
  windowMinutes: number | null;
  price: number;
  time: string;
  message: string;
}

export interface WebhookBody {
  contentType: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * The request body for each preset: `json` is the firing itself (`{ "event": "alert.fired", "alert": … }`);
 * Slack's incoming webhooks read `text`, Discord's `content`; ntfy takes the message as a plain-text body
 * with a Title header (https://docs.ntfy.sh/publish/).
 */
export function webhookBody(preset: WebhookPreset, firing: WebhookFiring): WebhookBody {
  const text = `Price alert: ${firing.message} (${firing.time})`;
  switch (preset) {
    case 'slack':
      return { contentType: 'application/json', body: JSON.stringify({ text }), headers: {} };
    case 'discord':
      return { contentType: 'application/json', body: JSON.stringify({ content: text }), headers: {} };
    case 'ntfy':
      return {
        contentType: 'text/plain; charset=utf-8',
        body: firing.message,
        headers: { title: `stockstreamer: ${firing.ticker} alert`, tags: 'chart_with_upwards_trend' },
      };
    default:
      return {
        contentType: 'application/json',
        body: JSON.stringify({ event: 'alert.fired', alert: firing }),
        headers: {},
      };
  }
}
