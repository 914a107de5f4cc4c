/**
 * The connection pill. Its text is exactly the status (`live`, `reconnecting`, `offline`) because the
 * browser tests read it; the dot and colours come from CSS via `data-state`.
 */
import type { ConnectionStatus } from './types.ts';

const DESCRIPTIONS: Record<ConnectionStatus, string> = {
  live: 'Receiving live prices',
  reconnecting: 'Connection lost, reconnecting…',
  offline: 'Not connected; will keep trying',
};

export function showConnectionStatus(el: HTMLElement, status: ConnectionStatus): void {
  el.textContent = status;
  el.dataset.state = status;
  el.title = DESCRIPTIONS[status];
}
