/**
 * What every browser test checks besides its own point: that the page asked nothing of another host, broke
 * none of the server's Content-Security-Policy, and threw nothing. Requests to other origins are recorded
 * and aborted (these machines reach no other host anyway, and a test must not wait on one); CSP violations
 * are reported by the page's own `securitypolicyviolation` events and by Chromium's console.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { launchChromium } from '../helpers/browser.ts';
import { seedSimulatedHistory } from './seed-history.ts';

export interface PageWatch {
  /** Every URL the context requested, in order. */
  requests: string[];
  /** The ones that went to another origin (and were refused). */
  offOrigin: string[];
  cspViolations: string[];
  /** Uncaught exceptions and console errors. */
  errors: string[];
  /** Adds a page's console and error events to the watch. */
  attach(page: Page): void;
}

export async function watchContext(context: BrowserContext, origin: string): Promise<PageWatch> {
  const watch: PageWatch = {
    requests: [],
    offOrigin: [],
    cspViolations: [],
    errors: [],
    attach(page) {
      page.on('pageerror', (error) => watch.errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        const text = message.text();
        if (/Content Security Policy/i.test(text)) watch.cspViolations.push(`console: ${text}`);
        else if (message.type() === 'error') watch.errors.push(`console.error: ${text}`);
      });
    },
  };
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    watch.requests.push(url);
    const sameOrigin = url.startsWith(`${origin}/`) || url === origin;
    if (sameOrigin || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    watch.offOrigin.push(url);
    return route.abort('blockedbyclient');
  });
  await context.exposeBinding('__reportCspViolation', (_source, text: string) => {
    watch.cspViolations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation?: (text: string) => void })
        .__reportCspViolation;
      report?.(
        `${event.violatedDirective}: ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  context.on('page', (page) => watch.attach(page));
  return watch;
}

/** Chromium on a desktop-sized page of `app`, watched (see {@link watchContext}). */
export async function openPage(app: {
  url?: string;
}): Promise<{ browser: Browser; page: Page; watch: PageWatch }> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const watch = await watchContext(context, new URL(app.url!).origin);
  const page = await context.newPage();
  await page.goto(`${app.url}/`);
  return { browser, page, watch };
}

/** The page's read-only test hook (web/src/page-test-hook.ts). */
export type Hook = NonNullable<Window['__stockstreamer']>;

/** Calls a method of the test hook on the page `current()` returns (a test may open a new one). */
export function hookOn(current: () => Page) {
  return <K extends keyof Hook>(name: K, ...args: Parameters<Hook[K]>) =>
    current().evaluate(
      ([method, params]) => {
        const h = window.__stockstreamer as unknown as Record<string, (...a: unknown[]) => unknown>;
        return h[method]!(...params);
      },
      [name, args] as [string, unknown[]],
    ) as Promise<ReturnType<Hook[K]>>;
}

export const TICKERS = ['GE', 'AMZN', 'NVDA', 'INTC', 'AAPL', 'NFLX'] as const;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Days of history the chart tests start with: more than the default 7, less than "30 days". */
export const SEEDED_DAYS = 10;

/**
 * A real app (Postgres, Redis, BullMQ, Yoga) with {@link SEEDED_DAYS} days of the simulated market's own
 * history up to a few seconds ago, and with every ticker's logo and 52-week range stored before it returns.
 * Its manual clock is at the real time, so `tick()` stamps a new tick "now", as the browser sees now.
 */
export async function startSeededApp(options: { env?: Record<string, string>; days?: number } = {}) {
  const app = await startTestApp({ env: options.env, start: new Date(Math.floor(Date.now() / 1000) * 1000) });
  await seedSimulatedHistory(app.database.url, {
    tickers: TICKERS,
    end: new Date(Date.now() - 5000),
    days: options.days ?? SEEDED_DAYS,
    stepMs: 60_000,
    fineHours: 2,
    fineStepMs: 5000,
  });
  await waitForRanges(app);
  return {
    ...app,
    /**
     * Stores and publishes one tick per ticker, stamped with the current second. Two ticks in one second
     * would be one observation (stored once, published once), so a tick waits for a second of its own.
     */
    async tick() {
      const after = app.clock.now().getTime();
      let second = Math.floor(Date.now() / 1000) * 1000;
      while (second <= after) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        second = Math.floor(Date.now() / 1000) * 1000;
      }
      app.clock.set(new Date(second));
      return app.runPriceJob();
    },
  };
}

export type SeededApp = Awaited<ReturnType<typeof startSeededApp>>;

/** The start-up refresh fetches logos and 52-week ranges in the background: wait until it has. */
async function waitForRanges(app: TestApp): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ watchlist { ticker logoUrl high52Week low52Week } }' }),
    });
    const body = (await response.json()) as {
      data?: { watchlist: { logoUrl: string | null; high52Week: number | null }[] };
    };
    const list = body.data?.watchlist ?? [];
    if (list.length > 0 && list.every((s) => s.logoUrl && s.high52Week !== null)) return;
    if (Date.now() > deadline)
      throw new Error(`logos and 52-week ranges never arrived: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** GraphQL over real HTTP from the test, as a non-browser client. */
export async function graphql<T>(app: { url?: string }, query: string, variables: object = {}): Promise<T> {
  const response = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data;
}
