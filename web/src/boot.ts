/**
 * The page's entry, the only script index.html loads: it sends the first load's requests (first-load.ts)
 * and only then imports the page's code (main.ts) and, through it, the chart library. The history answer
 * is on its way while those are fetched, parsed and compiled, instead of after (index.html preloads them,
 * so they download alongside this).
 */
import { startFirstLoad } from './first-load.ts';
import { createGraphqlApi } from './graphql-api.ts';

performance.mark('stockstreamer:boot');
const firstLoad = startFirstLoad(createGraphqlApi({ url: '/graphql' }), window, Date.now());
import('./main.ts')
  .then(({ startPage }) => startPage(firstLoad))
  .catch((error) => console.error('stockstreamer: the page failed to start:', error));
