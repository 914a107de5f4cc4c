/**
 * What the page's first paint showed, read in Chromium by the browser tests and the P4 bench: whether the
 * server's first frame (src/server/first-frame.ts) was in the page when the first contentful paint was
 * presented, and when the live chart had drawn six lines with their history.
 */
import type { Page } from 'playwright-core';

export interface FirstPaintSeen {
  /** `performance.timeOrigin` of the page (ms since the epoch). */
  origin: number;
  /** The first contentful paint, ms from navigation start; absent if Chromium reported none in 10 s. */
  paint?: number;
  /** When the live chart held six lines with history. */
  drawn: number;
  /** When the frame was first in the page (0: already when the probe started), and when it went. */
  frameCame?: number;
  frameWent?: number;
  /** The frame as the probe first saw it. */
  frame?: { size: string; times: string; zone: string; display: string; lines: number; xLabels: string[] };
}

/**
 * Call right after `page.goto(url, { waitUntil: 'domcontentloaded' })`, when the page's styles apply (the
 * container query that hides a frame of the wrong size is among them): watches the frame go until the live
 * chart has drawn, then reads the paint. A frame the entry took away before then is one never seen. (A string, not a function: the bench runs through tsx, whose
 * helpers do not exist in the page.)
 */
export function probeFirstPaint(page: Page): Promise<FirstPaintSeen> {
  return page.evaluate(`new Promise((resolve) => {
    const seen = { origin: performance.timeOrigin };
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
    const isFrame = (node) => node.nodeType === 1 && node.matches('[data-testid="first-frame"]');
    const present = document.querySelector('[data-testid="first-frame"]');
    if (present) {
      seen.frameCame = 0;
      seen.frame = describe(present);
    }
    new MutationObserver((records) => {
      for (const record of records) {
        const added = [...record.addedNodes].find(isFrame);
        if (added && seen.frameCame === undefined) {
          seen.frameCame = performance.now();
          seen.frame = describe(added);
        }
        if ([...record.removedNodes].some(isFrame)) seen.frameWent ??= performance.now();
      }
    }).observe(document, { childList: true, subtree: true });
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

/** Whether the first paint showed the frame: it was in the page, not hidden, at that moment. */
export function framePainted(seen: FirstPaintSeen): boolean {
  const { paint, frameCame, frameWent, frame } = seen;
  return (
    paint !== undefined &&
    frameCame !== undefined &&
    frameCame <= paint &&
    (frameWent ?? Number.POSITIVE_INFINITY) > paint &&
    frame?.display !== 'none'
  );
}
