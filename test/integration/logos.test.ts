import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SVG_LOGO_CSP } from '../../src/server/security.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { runJob, settle, watchlist } from '../helpers/provider-app.ts';

/**
 * Real logos on a page that loads nothing from other hosts: with a live provider (Finnhub, against the fake
 * upstream), the logo job downloads each company's image, stores it inline in Postgres, and the app serves
 * it from its own origin at /logos/{TICKER}, which is what the API hands the page.
 */
const PNG = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/providers/finnhub/logo.png'),
);
const SCRIPTED_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><script>alert(document.domain)</script>' +
  '<rect width="8" height="8" fill="#c00"/></svg>';

let fake: FakeUpstream;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeUpstream();
  app = await startTestApp({
    env: fake.env('finnhub', { SYMBOLS: 'AAPL,MSFT', PROVIDER_BUDGET: 'off' }),
  });
  await settle(app);
});
afterAll(async () => {
  await app?.stop();
  await fake?.close();
});
beforeEach(() => fake.clearFaults());

const logoOf = async (ticker: string) => (await watchlist(app)).find((s) => s.ticker === ticker)?.logoUrl;
const get = (pathname: string) => fetch(`${app.url}${pathname}`);

describe('logos downloaded by the worker, served from the app’s origin', () => {
  it('serves the provider’s PNG at /logos/{TICKER}, which is what the API answers', async () => {
    fake.requests.length = 0;
    const { state } = await runJob(app, 'logos');
    expect(state).toBe('completed');
    // The worker fetched the image itself, from the provider's (here: the fake's) host.
    expect(fake.requestsTo('finnhub', /stock_logo\/AAPL\.png$/)).toHaveLength(1);

    expect(await logoOf('AAPL')).toBe('/logos/AAPL');
    const response = await get('/logos/AAPL');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await response.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('fetches again a logo stored as an outside URL (before logos were downloaded)', async () => {
    await app.deps.watchlist.saveProfiles([
      { symbol: 'AAPL', name: 'Apple Inc', logoUrl: 'https://static2.finnhub.io/file/stock_logo/AAPL.png' },
    ]);
    expect(await app.deps.watchlist.missingProfiles()).toEqual(['AAPL']);
    const { state } = await runJob(app, 'logos');
    expect(state).toBe('completed');
    expect(await logoOf('AAPL')).toBe('/logos/AAPL');
    expect(await app.deps.watchlist.missingProfiles()).toEqual([]);
  });

  it('serves a stored SVG with a CSP that lets no script run in this origin', async () => {
    await app.deps.watchlist.saveProfiles([
      {
        symbol: 'MSFT',
        name: 'Microsoft Corporation',
        logoUrl: `data:image/svg+xml;base64,${Buffer.from(SCRIPTED_SVG).toString('base64')}`,
      },
    ]);
    expect(await logoOf('MSFT')).toBe('/logos/MSFT');
    const response = await get('/logos/MSFT');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(response.headers.get('content-security-policy')).toBe(SVG_LOGO_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe(SCRIPTED_SVG);
    // Every other answer keeps the app's own policy.
    expect((await get('/logos/MSFT.svg')).headers.get('content-security-policy')).toMatch(
      /^default-src 'self'/,
    );
  });

  it('falls back to the monogram when the image is missing, and keeps the company name', async () => {
    fake.inject({ provider: 'finnhub', path: /stock_logo\//, kind: 'status', status: 404, times: 10 });
    const { state } = await runJob(app, 'logos');
    expect(state).toBe('completed');
    const aapl = (await watchlist(app)).find((s) => s.ticker === 'AAPL')!;
    expect(aapl.logoUrl).toBe('/logos/AAPL.svg');
    expect(aapl.companyName).toBe('Apple Inc.');
    const response = await get(aapl.logoUrl!);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(await response.text()).toContain('aria-label="AAPL"');
  });

  it('does not fetch a logo URL off the provider’s hosts', async () => {
    await runJob(app, 'logos');
    expect(await logoOf('AAPL')).toBe('/logos/AAPL');
    // The same image, on a host that is neither Finnhub's nor the configured one: it would download fine.
    const elsewhere = `http://localhost:${new URL(fake.url).port}/finnhub/file/publicdatany/finnhubimage/stock_logo/AAPL.png`;
    fake.inject({
      provider: 'finnhub',
      path: '/stock/profile2',
      symbol: 'AAPL',
      kind: 'json',
      body: { name: 'Apple Inc.', logo: elsewhere },
    });
    fake.requests.length = 0;
    await runJob(app, 'logos');
    expect(await logoOf('AAPL')).toBe('/logos/AAPL.svg');
    expect(fake.requestsTo('finnhub', /stock_logo\/AAPL\.png$/)).toEqual([]);
  });

  it('serves the monogram for a malformed stored image or none, and 404 for a non-ticker', async () => {
    await app.deps.watchlist.saveProfiles([
      {
        symbol: 'MSFT',
        name: 'Microsoft Corporation',
        logoUrl: 'data:image/png;base64,PGh0bWw+PC9odG1sPg==',
      },
    ]);
    expect(await logoOf('MSFT')).toBe('/logos/MSFT');
    for (const pathname of ['/logos/MSFT', '/logos/NFLX']) {
      const response = await get(pathname);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/svg+xml');
      expect(await response.text()).toMatch(/^<svg [^>]*aria-label="(MSFT|NFLX)"/);
    }
    const bad = await get('/logos/%3Cscript%3E');
    expect(bad.status).toBe(404);
    expect(await bad.json()).toEqual({
      error: 'wanted /logos/{TICKER} or /logos/{TICKER}.svg with a valid ticker',
    });
  });
});
