/**
 * The page's entry, the only script index.html loads: it sends the first load's requests (first-load.ts)
 * and only then imports the page's code (main.ts) and, through it, the chart library. The history answer
 * is on its way while those are fetched, parsed and compiled, instead of after (index.html preloads them,
 * so they download alongside this).
 */
import { dropFrameUnlessShowing, type ShownView } from './first-frame.ts';
import { pickedRange, startFirstLoad } from './first-load.ts';
import { createGraphqlApi } from './graphql-api.ts';

performance.mark('stockstreamer:boot');
const firstLoad = startFirstLoad(createGraphqlApi({ url: '/graphql' }), window, Date.now());
// The server drew the default view into the chart (first-frame.ts); a reload may have restored other
// choices, which the chart will show instead: the frame goes now, before it is painted, not when the
// page's code gets round to them. (Its clock is the chart's to check: what tells it imports the page's
// formatters, whose making would hold up this first paint.)
dropFrameUnlessShowing(document, restoredView(document));
import('./main.ts')
  .then(({ startPage }) => startPage(firstLoad))
  .catch((error) => console.error('stockstreamer: the page failed to start:', error));

/** The view the controls show as the page loads (view-controls.ts applies the same to the chart). */
function restoredView(doc: Document): ShownView {
  const control = (testid: string) => doc.querySelector<HTMLInputElement>(`[data-testid="${testid}"]`);
  const mode = doc.querySelector<HTMLInputElement>('[data-testid="mode-picker"] input:checked')?.value;
  return {
    range: pickedRange(doc.querySelector('[data-testid="range-picker"]')),
    mode: mode === 'percent' ? 'percent' : 'price',
    logScale: control('log-toggle')?.checked === true,
    bandsOn: control('bands-toggle')?.checked !== false,
    hiddenLines: 0,
  };
}
