/**
 * Which parts of a history window still lack ticks: pure arithmetic on counts the database returns, so the
 * backfill of a new ticker and the repair of an outage are one computation (jobs/history-processor.ts).
 */

/** A half-open span of time [startMs, endMs). */
export interface Span {
  startMs: number;
  endMs: number;
}

/** The window is examined in pieces of this length: an outage of a minute costs refilling one hour. */
export const HISTORY_PIECE_MS = 3_600_000;
/** Consecutive missing pieces are merged into fill jobs of at most a day (17,280 ticks at 5 s). */
export const MAX_FILL_SPAN_MS = 86_400_000;

/** How many price slots (multiples of `stepMs` since the epoch, as BullMQ's `every` places them) lie in a span. */
export function slotsIn(span: Span, stepMs: number): number {
  return Math.max(0, Math.ceil(span.endMs / stepMs) - Math.ceil(span.startMs / stepMs));
}

/** The slot instants of a span, ascending. */
export function slotTimes(span: Span, stepMs: number): number[] {
  const times: number[] = [];
  for (let t = Math.ceil(span.startMs / stepMs) * stepMs; t < span.endMs; t += stepMs) times.push(t);
  return times;
}

/**
 * The spans of `window` whose pieces hold fewer ticks than slots, merged where they touch and cut to at
 * most `maxSpanMs`. `stored` maps a piece's start (a multiple of `pieceMs`) to its stored tick count; a piece
 * absent from it holds none. `isOpen` says whether the market trades in a piece (a closed piece is never
 * missing). Pieces are clipped to the window, so its ragged ends ask only for the slots inside.
 */
export function missingSpans(
  window: Span,
  stored: ReadonlyMap<number, number>,
  stepMs: number,
  options: {
    pieceMs?: number;
    maxSpanMs?: number;
    isOpen?: (piece: Span) => boolean;
    /** Whether a piece holding `stored` rows is whole; by default, one tick per slot. */
    isComplete?: (stored: number, piece: Span) => boolean;
  } = {},
): Span[] {
  const pieceMs = options.pieceMs ?? HISTORY_PIECE_MS;
  const maxSpanMs = options.maxSpanMs ?? MAX_FILL_SPAN_MS;
  const spans: Span[] = [];
  for (let start = Math.floor(window.startMs / pieceMs) * pieceMs; start < window.endMs; start += pieceMs) {
    const piece = {
      startMs: Math.max(start, window.startMs),
      endMs: Math.min(start + pieceMs, window.endMs),
    };
    const wanted = slotsIn(piece, stepMs);
    const count = stored.get(start) ?? 0;
    if (wanted === 0 || (options.isComplete ? options.isComplete(count, piece) : count >= wanted)) continue;
    if (options.isOpen && !options.isOpen(piece)) continue;
    const last = spans.at(-1);
    if (last && last.endMs === piece.startMs && piece.endMs - last.startMs <= maxSpanMs)
      last.endMs = piece.endMs;
    else spans.push(piece);
  }
  return spans;
}
