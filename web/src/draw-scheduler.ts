/**
 * When the line chart draws: at most once per animation frame however many changes arrive (a burst of
 * ticks costs one render), one draw at a time (each waits for the one before to finish), none while a
 * drag holds drawing, and the one put off by the hold as soon as it ends. A hidden tab gets no animation
 * frames, so it draws when it comes back. Pure: the frame clock, the draw and the hold are passed in.
 */

export interface DrawSchedulerDeps {
  /** Calls `fn` before the next repaint (requestAnimationFrame). */
  requestFrame(fn: () => void): void;
  draw(): Promise<void>;
  /** Whether drawing is held now (a drag on the chart). */
  held(): boolean;
  onError(error: unknown): void;
}

export interface DrawScheduler {
  /** Asks for a draw: cheap, call it for every change. */
  schedule(): void;
  /** The hold ended: draws if a draw was asked for while it lasted. */
  resume(): void;
}

export function createDrawScheduler(deps: DrawSchedulerDeps): DrawScheduler {
  let dirty = false;
  let scheduled = false;
  let drawing: Promise<void> = Promise.resolve();

  function flush(): void {
    scheduled = false;
    if (deps.held() || !dirty) return; // resume() schedules again
    dirty = false;
    drawing = drawing.then(deps.draw).catch(deps.onError);
  }

  function schedule(): void {
    dirty = true;
    if (scheduled) return;
    scheduled = true;
    deps.requestFrame(flush);
  }

  return {
    schedule,
    resume() {
      if (dirty) schedule();
    },
  };
}
