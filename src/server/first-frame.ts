/**
 * The chart's first frame in the page's HTML (web/src/first-frame.ts says what it shows and why): read from
 * the same history and watchlist the page's first queries read, drawn by ApexCharts' SSR renderer in a
 * worker thread (a draw takes ~30–300 ms; on the API's own thread it held up every stream and request
 * meanwhile, the page's own scripts included), and kept for a few seconds per size and clock, so a burst of
 * page loads costs one read and one draw. The same read gives the watchlist's cards as stand-ins
 * (web/src/card-placeholders.ts), so the page's code filling them in does not move the painted week down.
 *
 * The page never waits long for it: a frame that is not ready within `waitMs` is left out of that answer
 * (the page draws the chart as it would without one) and is kept for the next. A failed read or draw is
 * logged and leaves the frame out; the page itself is always served.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { cardPlaceholders } from '../../web/src/card-placeholders.ts';
import { type FrameRequest, parseFrameCookie } from '../../web/src/first-frame.ts';
import {
  type FrameData,
  frameHistoryWidth,
  frameWindowStart,
  GUESSED_SIZE,
} from '../../web/src/first-frame-options.ts';
import type { DrawAnswer, DrawMessage } from './first-frame-worker.ts';

/**
 * How long a drawn frame is served as it is. A pixel of the week's axis is ~8 minutes, so a frame a minute
 * old draws the same lines; the live chart, a moment later, has every tick. Drawing less often keeps the
 * draws (a database read and ~30–300 ms of a core) away from the page loads they would compete with.
 */
export const FRAME_FRESH_MS = 60_000;
/** How long an older frame may still be served while a fresh one is drawn in the background. */
export const FRAME_STALE_MS = 10 * 60_000;
/** How long the page's answer waits for a frame that is being drawn. */
export const FRAME_WAIT_MS = 300;
/** Sizes and clocks kept at once; the least recently asked for goes first. */
const MAX_KEPT = 8;
/**
 * The least time between the starts of two draws. Cookies are the client's to write: without a ration, a
 * stream of new sizes would keep the database and the worker busy.
 */
export const MIN_DRAW_GAP_MS = 500;

export interface FirstFrameDeps {
  /** The watchlist, the default range's history at `width` and its provider bars (what the page reads first). */
  read(from: Date, to: Date, width: number): Promise<Omit<FrameData, 'now'>>;
  /** The app's clock: where the week ends. */
  now(): number;
  /**
   * Time as it passes, for freshness and the ration (the app's clock may stand still in a test, and a
   * budget of work is kept in real time): `performance.now` unless a test says otherwise.
   */
  elapsed?: () => number;
  logger: Logger;
  waitMs?: number;
  /** Draws a frame; the worker thread unless a test says otherwise. */
  draw?: FrameDrawer;
}

/** What goes into the page's HTML: the chart's frame, and the watchlist's cards to hold their room. */
export interface FirstFrameMarkup {
  /** For the chart's container; '' for none. */
  chart: string;
  /** For the cards' container (web/src/card-placeholders.ts); '' for none. */
  cards: string;
}

const NO_MARKUP: FirstFrameMarkup = Object.freeze({ chart: '', cards: '' });

export interface FirstFrame {
  /** The markup for a request with this `Cookie` header. Never rejects. */
  markup(cookieHeader: string | undefined): Promise<FirstFrameMarkup>;
  /** Stops the worker thread (a later draw starts another). */
  close(): Promise<void>;
}

export interface FrameDrawer {
  draw(data: FrameData, request: FrameRequest): Promise<string>;
  close(): Promise<void>;
}

interface Kept {
  drawnAt: number;
  markup: Promise<FirstFrameMarkup>;
}

/** Whether the server's clock knows `zone` (an IANA name). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Draws in a worker thread, started with the first draw and again after one dies. Under tsx and in the
 * tests the worker's source is TypeScript (Node strips the types); built, it is the compiled JavaScript.
 */
export function createWorkerDrawer(): FrameDrawer {
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const script = new URL(
    import.meta.url.endsWith('.ts') ? './first-frame-worker.ts' : './first-frame-worker.js',
    import.meta.url,
  );
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve(markup: string): void; reject(error: Error): void }>();

  function failAll(error: Error): void {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
    worker = undefined;
  }

  function started(): Worker {
    if (worker) return worker;
    const fresh = new Worker(script);
    fresh.unref(); // a frame being drawn does not keep the process alive
    fresh.on('message', (answer: DrawAnswer) => {
      const waiting = pending.get(answer.id);
      pending.delete(answer.id);
      if ('error' in answer) waiting?.reject(new Error(answer.error));
      else waiting?.resolve(answer.markup);
    });
    fresh.on('error', (error) => {
      if (worker === fresh) failAll(error);
    });
    fresh.on('exit', (code) => {
      if (worker === fresh) failAll(new Error(`the first frame's worker stopped (exit code ${code})`));
    });
    worker = fresh;
    return fresh;
  }

  return {
    draw(data, request) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        const message: DrawMessage = { id, data, request, localZone };
        started().postMessage(message);
      });
    },
    async close() {
      const stopping = worker;
      worker = undefined;
      failAll(new Error('the first frame is closed'));
      await stopping?.terminate();
    },
  };
}

export function createFirstFrame(deps: FirstFrameDeps): FirstFrame {
  const { logger } = deps;
  const waitMs = deps.waitMs ?? FRAME_WAIT_MS;
  const drawer = deps.draw ?? createWorkerDrawer();
  const elapsed = deps.elapsed ?? (() => performance.now());
  const kept = new Map<string, Kept>();
  let drawing = false;
  let lastDrawStart = Number.NEGATIVE_INFINITY;

  async function draw(request: FrameRequest, now: number): Promise<FirstFrameMarkup> {
    let cards = '';
    try {
      const read = await deps.read(
        new Date(frameWindowStart(now)),
        new Date(now),
        frameHistoryWidth(request.width),
      );
      cards = cardPlaceholders(read.watchlist);
      return { chart: await drawer.draw({ ...read, now }, request), cards };
    } catch (error) {
      logger.warn({ err: error }, 'first frame: could not draw it; the page is served without it');
      return { chart: '', cards };
    }
  }

  function frameFor(request: FrameRequest): Promise<FirstFrameMarkup> {
    const key = `${request.width}x${request.height}~${request.timeZone ?? ''}`;
    const now = elapsed();
    const previous = kept.get(key);
    if (previous && now - previous.drawnAt < FRAME_FRESH_MS) {
      kept.delete(key); // re-inserted: the map's order is the order of use
      kept.set(key, previous);
      return previous.markup;
    }
    // An older frame answers at once while a fresh one is drawn (or cannot be yet), if it is not too old.
    const stale = previous && now - previous.drawnAt < FRAME_STALE_MS ? previous.markup : undefined;
    // Drawing is rationed, whatever the cookies ask for: one draw at a time, a gap between draws.
    if (drawing || now - lastDrawStart < MIN_DRAW_GAP_MS) return stale ?? Promise.resolve(NO_MARKUP);
    drawing = true;
    lastDrawStart = now;
    const fresh: Kept = {
      drawnAt: now,
      markup: draw(request, deps.now()).finally(() => {
        drawing = false;
      }),
    };
    kept.delete(key);
    kept.set(key, fresh);
    while (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
    return stale ?? fresh.markup;
  }

  return {
    async markup(cookieHeader) {
      const request = parseFrameCookie(cookieHeader, isTimeZone) ?? { ...GUESSED_SIZE, timeZone: null };
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<FirstFrameMarkup>((resolve) => {
        timer = setTimeout(() => resolve(NO_MARKUP), waitMs);
      });
      try {
        return await Promise.race([frameFor(request), late]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => drawer.close(),
  };
}
