/**
 * The line chart's view and how the viewer moves it: a picked range followed live, until a zoom or a pan
 * takes the chart away to a window of its own; back to live by the reset button, Escape or a new range.
 * A drag (box zoom, pan) holds drawing until the pointer comes up, as a re-render under it would cut the
 * gesture short; a pan is reported when it ends, a zoom at once. Reports ask for finer history
 * (`detailWanted`) whenever the window left the live one. Pure: drawing, the live window, the report and
 * the timer are passed in.
 */

import type { ChartView } from './chart-frame.ts';
import { DEFAULT_RANGE, type RangeKey, type TimeWindow } from './ranges.ts';
import type { TimeZoneChoice } from './time-zone.ts';
import type { ChartMode } from './value-scale.ts';

/**
 * The view a page opens on: the last 7 days in dollars, linear, on the viewer's clock, following live. The
 * server's first frame draws it (first-frame-options.ts) and shows only while the page is to show it
 * (first-frame.ts).
 */
export const DEFAULT_VIEW: Readonly<ChartView> = Object.freeze({
  range: DEFAULT_RANGE,
  mode: 'price',
  logScale: false,
  timeZone: 'viewer',
  following: true,
  window: null,
});

/** A hold whose pointerup the page never hears (released outside the window) ends after this long. */
export const HOLD_BACKSTOP_MS = 10_000;

export interface ViewStateDeps {
  /** The window the picked range spans now (what following live draws). */
  liveWindow(): TimeWindow;
  /** The viewer zoomed, panned or went back to live; `detailWanted` asks for finer history there. */
  onViewChange?(view: ChartView, detailWanted: boolean): void;
  /** Asks for a draw of the view as it is now. */
  redraw(): void;
  /** A hold ended: draw what was asked for while it lasted, if anything. */
  resume(): void;
  /** Runs `fn` after `ms` and returns what cancels it (the hold's backstop); setTimeout by default. */
  after?(fn: () => void, ms: number): () => void;
}

export interface ViewState {
  /** The view itself, read on every draw (not a copy: `copy()` is for handing out). */
  readonly view: Readonly<ChartView>;
  copy(): ChartView;
  /** Whether a drag holds drawing. */
  held(): boolean;
  /** Picks a range and follows live in it (reported, without detail, when it ends a zoom). */
  setRange(range: RangeKey): void;
  setMode(mode: ChartMode): void;
  setLogScale(on: boolean): void;
  setTimeZone(choice: TimeZoneChoice): void;
  /** The viewer zoomed to `window` (box, wheel or toolbar zoom). */
  zoomed(window: TimeWindow): void;
  /** A pan drag is at `window`: remembered, reported and drawn once the pointer comes up. */
  panned(window: TimeWindow): void;
  /** A pointer went down on the chart: a drag may be starting. */
  press(): void;
  /** The pointer came up (or the gesture was cancelled). */
  release(): void;
  backToLive(): void;
  /** A draw is showing `window`. */
  showing(window: TimeWindow): void;
}

function defaultAfter(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}

export function createViewState(deps: ViewStateDeps): ViewState {
  const after = deps.after ?? defaultAfter;
  const view: ChartView = { ...DEFAULT_VIEW };
  let holding = false;
  /** A pan moved the window during this hold; it is reported when the hold ends. */
  let panPending = false;
  let cancelBackstop: (() => void) | undefined;

  const copy = (): ChartView => ({ ...view, window: view.window ? { ...view.window } : null });

  function release(): void {
    cancelBackstop?.();
    cancelBackstop = undefined;
    if (!holding) return;
    holding = false;
    if (panPending) {
      panPending = false;
      deps.onViewChange?.(copy(), true);
      deps.redraw();
    } else {
      deps.resume();
    }
  }

  function backToLive(): void {
    if (view.following) return;
    view.following = true;
    // The window is the live one from now on, not the zoom's until the next frame draws: whoever reads
    // the view in between (the page's detail loader, the test hook) sees one consistent state.
    view.window = deps.liveWindow();
    deps.onViewChange?.(copy(), false);
    deps.redraw();
  }

  /** Sets one view setting, drawing only when it changed. */
  function set<K extends 'mode' | 'logScale' | 'timeZone'>(key: K, value: ChartView[K]): void {
    if (view[key] === value) return;
    view[key] = value;
    deps.redraw();
  }

  return {
    view,
    copy,
    held: () => holding,
    setRange(range) {
      view.range = range;
      // Leaving a zoom is going back to live (a detail fetch for the zoom is no longer wanted), in the new range.
      if (view.following) deps.redraw();
      else backToLive();
    },
    setMode: (mode) => set('mode', mode),
    setLogScale: (on) => set('logScale', on),
    setTimeZone: (choice) => set('timeZone', choice),
    zoomed(window) {
      view.following = false;
      view.window = window;
      deps.onViewChange?.(copy(), true);
      deps.redraw();
    },
    panned(window) {
      view.following = false;
      view.window = window;
      panPending = true;
    },
    press() {
      holding = true;
      cancelBackstop?.();
      cancelBackstop = after(release, HOLD_BACKSTOP_MS);
    },
    release,
    backToLive,
    showing(window) {
      view.window = window;
    },
  };
}
