/**
 * GraphiQL at /graphql, offline: a locally bundled page (the stock Yoga one loads its code from a CDN) that
 * renders, loads the schema, and runs its example query against the real app.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { browserAvailable, launchChromium } from '../helpers/browser.ts';
import { type PageWatch, watchContext } from './harness.ts';

describe.runIf(browserAvailable())('GraphiQL at /graphql in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    app = await startTestApp();
    await app.runPriceJob();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    watch = await watchContext(context, new URL(app.url!).origin);
    page = await context.newPage();
    await page.goto(`${app.url}/graphql`);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('renders with the example query and loads the schema (docs explorer)', async () => {
    await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
    expect(await page.title()).toContain('GraphiQL');
    await expect.poll(() => page.locator('.graphiql-query-editor').textContent()).toContain('watchlist');
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await expect.poll(() => docs.textContent(), { timeout: 15_000 }).toContain('Query');
    expect(await docs.textContent()).not.toContain('Error fetching schema');
  });

  it('runs the query and shows the answer', async () => {
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect.poll(() => response.textContent(), { timeout: 15_000 }).toContain('"watchlist"');
    const text = (await response.textContent()) ?? '';
    // the answer's editor draws only the lines in view: the first stock is enough
    expect(text).toMatch(/"ticker":\s*"GE"/);
    expect(text).not.toContain('"errors"');
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/graphiql.png' });
  });

  it('made no request elsewhere, broke no CSP rule and threw nothing', () => {
    expect(watch.requests.some((url) => url.endsWith('/graphql'))).toBe(true);
    expect(watch.offOrigin).toEqual([]);
    expect(watch.cspViolations).toEqual([]);
    expect(watch.errors).toEqual([]);
  });
});
