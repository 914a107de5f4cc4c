/** What the page's modules look up in the document and the browser: its elements by test id, its storage. */

export function required<T extends HTMLElement = HTMLElement>(testid: string): T {
  const el = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`index.html lost its [data-testid="${testid}"] element`);
  return el;
}

/** This tab's storage (the admin sign-in, the candles' ticker); null where the browser refuses storage. */
export function safeSessionStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Choices kept across visits (the clock); null where the browser refuses storage. */
export function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}
