/** What the line chart and the candle chart share in looks, so the two read as one page. */

/** The page's font stack (no web fonts: the build must not fetch anything from elsewhere). */
export const FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** The time axis both charts draw: the viewer's clock, hours as HH:mm. A fresh object each time. */
export function timeAxis() {
  return {
    type: 'datetime' as const,
    labels: { datetimeUTC: false, datetimeFormatter: { hour: 'HH:mm', minute: 'HH:mm' } },
    tooltip: { enabled: false },
  };
}
