/**
 * What the page builds only after the line chart's first draw with data: the alert rules editor, the alert
 * panel (with its own subscription and the firings over the range) and candles. None of them is needed to
 * see prices, and on a loaded machine the first draw waits for the main thread, so main.ts imports this
 * module dynamically once the lines are up (first-draw.ts): its code is not parsed, nor its panels built,
 * nor their requests sent, while the chart is being drawn.
 *
 * The watchlist editor is not among them: its sign-in and edit buttons are there as soon as the server
 * answers the permissions question, which goes out with the first load, however long the draw takes.
 */
import { createAlertPanel } from './alert-panel.ts';
import { createAlertRulesEditor } from './alert-rules-editor.ts';
import type { CandleStock } from './candle-chart.ts';
import { type CandleWiring, wireCandles } from './candle-wiring.ts';
import type { GraphqlApi } from './graphql-api.ts';
import { required } from './page-dom.ts';
import type { PriceChart } from './price-chart.ts';
import { historyFrom, type RangeKey } from './ranges.ts';
import { type TimeZoneChoice, timeZoneOf } from './time-zone.ts';
import type { Timers } from './timers.ts';
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
  timers: Timers;
}

export interface LatePanels extends LateControls {
  candles: CandleWiring;
}

export function createLatePanels(options: LatePanelsOptions): LatePanels {
  const { api, chart, editor } = options;
  const rulesEditor = createAlertRulesEditor(required('alert-rules-editor'), api);
  const alerts = createAlertPanel(required('alert-panel'), {
    url: '/graphql',
    onMarkers: (markers) => chart.setAlerts(markers),
    onLive: () => void rulesEditor.refresh(),
  });
  const candles = wireCandles({
    api,
    chart,
    range: options.range,
    setMode: options.setMode,
    syncLiveButton: options.syncLiveButton,
  });

  /** The log of firings over the picked range (markers and list); quiet on failure, the feed goes on. */
  async function loadAlerts(): Promise<void> {
    try {
      const now = options.timers.now();
      const from = new Date(historyFrom(options.range(), now));
      alerts.add(await api.alertFirings(from, new Date(now + 60_000)), false);
    } catch (error) {
      console.warn('stockstreamer: loading alerts failed:', error);
    }
  }

  const zone = options.timeZone();
  candles.chart.setTimeZone(zone);
  alerts.setTimeZone(timeZoneOf(zone));
  candles.view.setStocks(options.stocks());
  // the radios may have been restored to candles, or picked while this was on its way
  if (candles.picked() === 'candles') candles.setStyle('candles');
  void loadAlerts();
  void options.permissions.then(() =>
    rulesEditor.setAllowed(editor.permissions()?.canEditWatchlist === true),
  );

  return {
    candles,
    candlesActive: () => candles.view.active(),
    candlePngUrl: () => candles.view.pngUrl(),
    reloadCandles: () => candles.view.reload(),
    loadAlerts: () => void loadAlerts(),
    setTimeZone(choice, timeZone) {
      candles.chart.setTimeZone(choice);
      alerts.setTimeZone(timeZone);
    },
  };
}
