/**
 * `window.__stockstreamer`: a read-only window onto what the chart holds, for the browser tests.
 *
 * Why it exists: the e2e tests (test/e2e, real Chromium) must check that history loaded and that live ticks
 * arrive, without scraping ApexCharts' SVG — path data is an implementation detail that changes with
 * zoom, width, theme and library version, while these counts are what the page promised to draw. It only
 * reads; it cannot change the page, and it costs nothing when no one calls it.
 */

export interface StockstreamerTestHook {
  /** How many series (lines) the chart holds. */
  seriesCount(): number;
  /** How many points the chart holds for `ticker`; 0 when it has no such series. */
  pointCount(ticker: string): number;
}

declare global {
  interface Window {
    readonly __stockstreamer?: StockstreamerTestHook;
  }
}

export function installTestHook(target: Window, source: StockstreamerTestHook): void {
  const hook: StockstreamerTestHook = Object.freeze({
    seriesCount: () => source.seriesCount(),
    pointCount: (ticker: string) => source.pointCount(String(ticker)),
  });
  Object.defineProperty(target, '__stockstreamer', {
    value: hook,
    writable: false,
    configurable: false,
    enumerable: false,
  });
}
