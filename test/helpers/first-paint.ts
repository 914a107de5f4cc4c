/**
 * What the page's first paint showed, read in Chromium by the browser tests and the P4 bench: whether the
 * server's first frame (src/server/first-frame.ts) was in the page when the first contentful paint was
 * presented, and when the live chart had drawn six lines with their history.
 *
 * The watch is installed before the page loads (`watchFirstPaint`), so it sees the frame arrive with the
 * parser and go with the chart's first draw whatever Playwright's round trips cost. Started after
 * `goto` instead, it missed the frame in about one load in nine on a busy machine: the chart had already
 * taken its place, and the load was counted as one without a frame.
 */
import type { Page } from 'playwright-core';

export interface FirstPaintSeen {
  /** `performance.timeOrigin` of the page (ms since the epoch). */
  origin: number;
  /** The first contentful paint, ms from navigation start; absent if Chromium reported none in 10 s. */
  paint?: number;
  /** When the live chart held six lines with history. */
  drawn: number;
  /** When the parser put the frame in the page, and when it went (ms from navigation start). */
  frameCame?: number;
  frameWent?: number;
  /**
   * The frame at the first rendering update it was in the page for (its styles applied); absent if it
   * went before any.
   */
  frame?: { size: string; times: string; zone: string; display: string; lines: number; xLabels: string[] };
}

/**
 * Runs in the page before its own scripts (a string: the bench runs through tsx, whose helpers do not exist
 * in the page). Rendering updates wait for the page's stylesheet, so the first animation frame sees the
 * frame as the first paint lays it out, the container query that hides a frame of the wrong size included.
 */
const WATCH = `(() => {
  const seen = { origin: performance.timeOrigin };
  window.__firstPaintSeen = seen;
  const selector = '[data-testid="first-frame"]';
  let frame;
  const describe = (el) => ({
    size: el.dataset.size,
    times: el.dataset.times,
    zone: el.dataset.zone,
    display: getComputedStyle(el).display,
    lines: el.querySelectorAll('.apexcharts-series').length,
    xLabels: [...el.querySelectorAll('.apexcharts-xaxis-label')]
      .filter((t) => getComputedStyle(t).visibility === 'visible')
      .map((t) => t.querySelector('tspan')?.textContent ?? t.textContent),
  });
  new MutationObserver((records) => {
    if (!frame) {
      frame = document.querySelector(selector) ?? undefined;
      if (frame) seen.frameCame = performance.now();
    }
    for (const record of records) {
      if (frame && [...record.removedNodes].includes(frame)) seen.frameWent ??= performance.now();
    }
  }).observe(document, { childList: true, subtree: true });
  const look = () => {
    if (frame?.isConnected) seen.frame = describe(frame);
    else if (!frame && document.readyState === 'loading') requestAnimationFrame(look); // it may yet come
  };
  requestAnimationFrame(look);
})()`;

/** Call before `page.goto`: watches the frame from the page's first byte. */
export async function watchFirstPaint(page: Page): Promise<void> {
  await page.addInitScript(WATCH);
}

/**
 * After `page.goto` of a page `watchFirstPaint` watches: waits until the live chart has drawn six lines
 * with history, then for the first contentful paint's entry, and answers what was seen.
 */
export function readFirstPaint(page: Page): Promise<FirstPaintSeen> {
  return page.evaluate(`new Promise((resolve) => {
    const seen = window.__firstPaintSeen;
    const check = () => {
      const hook = window.__stockstreamer;
      if (hook && hook.seriesCount() === 6 && ['GE', 'NFLX'].every((t) => hook.pointCount(t) > 100)) {
        seen.drawn = performance.now();
        // The paint's entry comes when the compositor reports the frame shown, which can be later.
        setTimeout(() => resolve(seen), 10000);
        new PerformanceObserver((list, observer) => {
          const entry = list.getEntriesByName('first-contentful-paint')[0];
          if (!entry) return;
          observer.disconnect();
          seen.paint = entry.startTime;
          resolve(seen);
        }).observe({ type: 'paint', buffered: true });
      } else requestAnimationFrame(check);
    };
    check();
  })`) as Promise<FirstPaintSeen>;
}

/** Whether the first paint showed the frame: it was in the page, laid out and not hidden, at that moment. */
export function framePainted(seen: FirstPaintSeen): boolean {
  const { paint, frameCame, frameWent, frame } = seen;
  return (
    paint !== undefined &&
    frame !== undefined &&
    frameCame !== undefined &&
    frameCame <= paint &&
    (frameWent ?? Number.POSITIVE_INFINITY) > paint &&
    frame.display !== 'none'
  );
}
