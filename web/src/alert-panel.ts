/**
 * Price alerts on the page: firings arrive over `subscription Alerts` (GraphQL over SSE, as the ticks do),
 * are listed under the chart, marked on it where they fired, and shown as a browser notification when the
 * viewer allowed them (a button asks, once, on a click: browsers refuse to ask without one).
 */
import { type Client, createClient } from 'graphql-sse';
import { formatTooltipTime } from './format.ts';
import { AlertsDocument, type AlertsSubscription } from './generated/graphql.ts';
import type { AlertFiring } from './types.ts';

/** How many firings the list keeps; the chart's markers come from the same set. */
const MAX_LISTED = 50;
const RETRY_MS = 3000;

export interface AlertPanelOptions {
  url: string;
  /** Every firing the page knows of, per ticker, `[ms, dollars]`, whenever the set changes. */
  onMarkers(markers: ReadonlyMap<string, [number, number][]>): void;
  /** New firings arrived live (a rule's state changed: it fired and waits to re-arm). */
  onLive?(): void;
}

export interface AlertPanel {
  /** Firings from the log (the page's first load, a reconnect): merged with what the page has. */
  add(firings: readonly AlertFiring[], notify: boolean): void;
  /** Lists the firings' times in `timeZone` (IANA; undefined: the viewer's). */
  setTimeZone(timeZone: string | undefined): void;
  stop(): void;
}

export function createAlertPanel(root: HTMLElement, options: AlertPanelOptions): AlertPanel {
  const list = root.querySelector<HTMLOListElement>('[data-testid="alert-log"]')!;
  const empty = root.querySelector<HTMLElement>('[data-testid="alert-empty"]')!;
  const notifyButton = root.querySelector<HTMLButtonElement>('[data-testid="enable-notifications"]')!;
  const byId = new Map<string, AlertFiring>();
  let timeZone: string | undefined;

  const canNotify = typeof Notification !== 'undefined';
  const showNotifyButton = () => {
    notifyButton.hidden = !canNotify || Notification.permission !== 'default';
  };
  showNotifyButton();
  notifyButton.addEventListener('click', () => {
    void Notification.requestPermission().then(showNotifyButton, showNotifyButton);
  });

  function render(): void {
    const newest = [...byId.values()].sort((a, b) => b.time.localeCompare(a.time)).slice(0, MAX_LISTED);
    list.replaceChildren(
      ...newest.map((firing) => {
        const item = document.createElement('li');
        item.dataset.ticker = firing.ticker;
        item.dataset.testid = 'alert-item';
        const time = document.createElement('time');
        time.dateTime = firing.time;
        time.textContent = formatTooltipTime(Date.parse(firing.time), timeZone);
        item.append(time, ` ${firing.message}`);
        return item;
      }),
    );
    empty.hidden = newest.length > 0;
    const markers = new Map<string, [number, number][]>();
    for (const firing of newest) {
      const points = markers.get(firing.ticker) ?? [];
      points.push([Date.parse(firing.time), firing.price]);
      markers.set(firing.ticker, points);
    }
    options.onMarkers(markers);
  }

  function add(firings: readonly AlertFiring[], notify: boolean): void {
    let changed = false;
    for (const firing of firings) {
      // Announcing is at least once (a retried evaluation may repeat one): the id tells them apart.
      if (byId.has(firing.id)) continue;
      byId.set(firing.id, firing);
      changed = true;
      if (notify && canNotify && Notification.permission === 'granted') {
        new Notification(`Price alert: ${firing.ticker}`, {
          body: firing.message,
          tag: `alert-${firing.id}`,
        });
      }
    }
    if (changed) render();
  }

  const client: Client = createClient({
    url: options.url,
    retryAttempts: Number.POSITIVE_INFINITY,
    retry: () => new Promise((resolve) => setTimeout(resolve, RETRY_MS)),
  });
  let dispose: (() => void) | undefined;
  let stopped = false;
  const subscribe = () => {
    dispose = client.subscribe<AlertsSubscription>(
      { operationName: 'Alerts', query: AlertsDocument.toString() },
      {
        next: (result) => {
          add(result.data?.alerts ?? [], true);
          options.onLive?.();
        },
        error: (error) => {
          console.warn('stockstreamer: alert feed:', error);
          if (!stopped) setTimeout(subscribe, RETRY_MS);
        },
        complete: () => {
          if (!stopped) setTimeout(subscribe, RETRY_MS);
        },
      },
    );
  };
  subscribe();
  render();

  return {
    add,
    setTimeZone(zone) {
      if (zone === timeZone) return;
      timeZone = zone;
      render();
    },
    stop() {
      stopped = true;
      dispose?.();
      client.dispose();
    },
  };
}
