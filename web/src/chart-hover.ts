/**
 * Keeps a hover tooltip up across redraws. Every ApexCharts update re-renders the plot and drops the hover
 * tooltip; with a tick every few seconds, a reader holding the pointer still would see it vanish. This
 * remembers where the viewer's pointer is over `el` and replays it after a render.
 */
export interface HoverKeeper {
  /** Moves the pointer where it was again, if it is still over the chart. */
  restore(): void;
}

export function keepHover(el: HTMLElement): HoverKeeper {
  let pointer: { x: number; y: number } | null = null;
  el.addEventListener('mousemove', (e) => {
    // Only the viewer's own moves: the replayed one is not trusted.
    if (e.isTrusted) pointer = { x: e.clientX, y: e.clientY };
  });
  el.addEventListener('mouseleave', () => {
    pointer = null;
  });
  return {
    restore() {
      if (!pointer) return;
      const target = document.elementFromPoint(pointer.x, pointer.y);
      if (!target || !el.contains(target)) return;
      target.dispatchEvent(
        new MouseEvent('mousemove', {
          clientX: pointer.x,
          clientY: pointer.y,
          bubbles: true,
          cancelable: true,
        }),
      );
    },
  };
}
