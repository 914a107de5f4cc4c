/**
 * What the page builds only after the line chart's first draw with data: the alert rules editor and
 * candles. Neither is needed to see prices, and on a loaded machine the first draw waits for the main
 * thread, so main.ts imports this module dynamically once the lines are up (first-draw.ts): its code is
 * not parsed, nor its panels built, nor their requests sent, while the chart is being drawn.
 *
 * The watchlist editor and the alert panel are not among them: the sign-in and edit buttons, the firings'
 * list and their markers on the lines are there as soon as the server answers the questions that go out
 * with the first load, however long the draw takes (the browser tests hold the page to that).
 */
import { createAlertRulesEditor } from './alert-rules-editor.ts';
import type { CandleStock } from './candle-chart.ts';
import { type CandleWiring, wireCandles } from './candle-wiring.ts';
import type { GraphqlApi } from './graphql-api.ts';
import { required } from './page-dom.ts';
import type { PriceChart } from './price-chart.ts';
import type { RangeKey } from './ranges.ts';
import type { TimeZoneChoice } from './time-zone.ts';
import type { ChartMode } from './value-scale.ts';
import type { LateControls } from './view-controls.ts';
import type { WatchlistEditor } from './watchlist-editor.ts';

export interface LatePanelsOptions {
  api: GraphqlApi;
  chart: PriceChart;
  /** The watchlist editor, built with the page; the rules editor is allowed what it is allowed. */
  editor: Pick<WatchlistEditor, 'permissions'>;
  /** Settles once the permissions asked with the first load are in. */
  permissions: Promise<void>;
  range(): RangeKey;
  timeZone(): TimeZoneChoice;
  /** The watchlist's enabled stocks as drawn now (the candles' ticker picker lists them). */
  stocks(): readonly CandleStock[];
  setMode(mode: ChartMode): void;
  syncLiveButton(candlesUp: boolean): void;
}

export interface LatePanels extends LateControls {
  candles: CandleWiring;
  /** The alert feed got a firing: the rules' list shows when each last fired. */
  refreshRules(): void;
}

export function createLatePanels(options: LatePanelsOptions): LatePanels {
  const { api, chart, editor } = options;
  const rulesEditor = createAlertRulesEditor(required('alert-rules-editor'), api);
  const candles = wireCandles({
    api,
    chart,
    range: options.range,
    setMode: options.setMode,
    syncLiveButton: options.syncLiveButton,
  });

  candles.chart.setTimeZone(options.timeZone());
  candles.view.setStocks(options.stocks());
  // the radios may have been restored to candles, or picked while this was on its way
  if (candles.picked() === 'candles') candles.setStyle('candles');
  void options.permissions.then(() =>
    rulesEditor.setAllowed(editor.permissions()?.canEditWatchlist === true),
  );

  return {
    candles,
    candlesActive: () => candles.view.active(),
    candlePngUrl: () => candles.view.pngUrl(),
    reloadCandles: () => candles.view.reload(),
    setTimeZone: (choice) => candles.chart.setTimeZone(choice),
    refreshRules: () => void rulesEditor.refresh(),
  };
}
