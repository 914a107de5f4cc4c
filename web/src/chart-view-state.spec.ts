import { describe, expect, it } from 'vitest';
import type { ChartView } from './chart-frame.ts';
import { createViewState, HOLD_BACKSTOP_MS } from './chart-view-state.ts';

const LIVE = { min: 1000, max: 2000 };
const ZOOM = { min: 1200, max: 1400 };
const PAN = { min: 1300, max: 1500 };

/** A view state whose reports, draws and timers are recorded. */
function harness() {
  const reports: [ChartView, boolean][] = [];
  const log: string[] = [];
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  const state = createViewState({
    liveWindow: () => LIVE,
    onViewChange: (view, detail) => {
      reports.push([view, detail]);
      log.push(`report ${detail ? 'detail' : 'live'}`);
    },
    redraw: () => log.push('redraw'),
    resume: () => log.push('resume'),
    after: (fn, ms) => {
      const timer = { fn, ms, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  });
  return { state, reports, log, timers };
}

describe('createViewState', () => {
  it('starts following live in the default range, price mode, linear, on the viewer’s clock', () => {
    const { state } = harness();
    expect(state.copy()).toEqual({
      range: '7d',
      mode: 'price',
      logScale: false,
      timeZone: 'viewer',
      following: true,
      window: null,
    });
  });

  it('a zoom leaves live at once and asks for detail there', () => {
    const { state, reports, log } = harness();
    state.zoomed(ZOOM);
    expect(state.view).toMatchObject({ following: false, window: ZOOM });
    expect(reports).toEqual([[{ ...state.copy() }, true]]);
    expect(log).toEqual(['report detail', 'redraw']);
  });

  it('a pan is held until the pointer comes up, then reported with detail and drawn', () => {
    const { state, log } = harness();
    state.press();
    expect(state.held()).toBe(true);
    state.panned({ min: 1250, max: 1450 });
    state.panned(PAN);
    expect(log).toEqual([]);
    expect(state.view).toMatchObject({ following: false, window: PAN });
    state.release();
    expect(state.held()).toBe(false);
    expect(log).toEqual(['report detail', 'redraw']);
  });

  it('a press without a pan resumes drawing on release, without a report', () => {
    const { state, log } = harness();
    state.press();
    state.release();
    expect(log).toEqual(['resume']);
    expect(state.view.following).toBe(true);
  });

  it('a release with no hold does nothing (pointerup anywhere on the page)', () => {
    const { state, log } = harness();
    state.release();
    state.release();
    expect(log).toEqual([]);
  });

  it('ends a hold whose pointerup never came after the backstop, and a new press restarts it', () => {
    const { state, log, timers } = harness();
    state.press();
    state.press();
    expect(timers.map((t) => [t.ms, t.cancelled])).toEqual([
      [HOLD_BACKSTOP_MS, true],
      [HOLD_BACKSTOP_MS, false],
    ]);
    state.panned(PAN);
    timers[1]!.fn();
    expect(state.held()).toBe(false);
    expect(log).toEqual(['report detail', 'redraw']);
    // the pointerup that finally arrives finds nothing held
    state.release();
    expect(log).toHaveLength(2);
  });

  it('a release cancels the backstop', () => {
    const { state, timers } = harness();
    state.press();
    state.release();
    expect(timers[0]!.cancelled).toBe(true);
  });

  it('back to live takes the live window at once and reports without asking for detail', () => {
    const { state, reports, log } = harness();
    state.zoomed(ZOOM);
    log.length = 0;
    state.backToLive();
    expect(state.view).toMatchObject({ following: true, window: LIVE });
    expect(reports.at(-1)).toEqual([{ ...state.copy() }, false]);
    expect(log).toEqual(['report live', 'redraw']);
  });

  it('back to live while following does nothing', () => {
    const { state, log } = harness();
    state.backToLive();
    expect(log).toEqual([]);
  });

  it('picking a range while following redraws, without a report', () => {
    const { state, reports, log } = harness();
    state.setRange('1h');
    expect(state.view).toMatchObject({ range: '1h', following: true });
    expect(log).toEqual(['redraw']);
    expect(reports).toHaveLength(0);
  });

  it('picking a range ends a zoom like back to live: reported without detail, on the live window', () => {
    const { state, reports, log } = harness();
    state.zoomed(ZOOM);
    log.length = 0;
    state.setRange('1h');
    expect(state.view).toMatchObject({ range: '1h', following: true, window: LIVE });
    expect(log).toEqual(['report live', 'redraw']);
    expect(reports[1]).toEqual([{ ...state.copy() }, false]);
  });

  it.each([
    ['mode', (s: ReturnType<typeof createViewState>) => s.setMode('percent'), { mode: 'percent' }],
    ['log scale', (s: ReturnType<typeof createViewState>) => s.setLogScale(true), { logScale: true }],
    ['clock', (s: ReturnType<typeof createViewState>) => s.setTimeZone('exchange'), { timeZone: 'exchange' }],
  ] as const)('a new %s redraws once; the same one again does not', (_name, set, expected) => {
    const { state, log } = harness();
    set(state);
    set(state);
    expect(state.view).toMatchObject(expected);
    expect(log).toEqual(['redraw']);
  });

  it('records the window being drawn', () => {
    const { state, log } = harness();
    state.showing(LIVE);
    expect(state.view.window).toEqual(LIVE);
    expect(log).toEqual([]);
  });

  it('hands out copies that do not change the view', () => {
    const { state } = harness();
    state.zoomed(ZOOM);
    const copy = state.copy();
    copy.window!.min = 0;
    copy.following = true;
    expect(state.view).toMatchObject({ following: false, window: ZOOM });
  });
});
