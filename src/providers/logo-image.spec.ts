import { describe, expect, it } from 'vitest';
import { bytes, fakeFetch, fixtureBytes, json } from './fixtures.spec-helper.ts';
import { createProviderHttp } from './http.ts';
import { createLogoDownload, type ProviderLogger } from './logo-image.ts';

const PNG = fixtureBytes('finnhub/logo.png');
const DATA_PNG = `data:image/png;base64,${PNG.toString('base64')}`;

function setup(
  answer: (url: URL, init?: RequestInit) => Response | Promise<Response>,
  baseUrl = 'https://finnhub.io/api/v1',
) {
  const upstream = fakeFetch(answer);
  const logged: { level: string; message: string }[] = [];
  const logger: ProviderLogger = {
    debug: (_, message) => logged.push({ level: 'debug', message }),
    warn: (_, message) => logged.push({ level: 'warn', message }),
  };
  const http = createProviderHttp({
    provider: 'finnhub',
    baseUrl,
    timeoutMs: 1000,
    headers: { 'X-Finnhub-Token': 'sekrit' },
    fetch: upstream.fetch,
  });
  const download = createLogoDownload({ http, baseUrl, domains: ['finnhub.io'], logger });
  return { download, requests: upstream.requests, logged };
}

describe('createLogoDownload: which URLs are fetched', () => {
  it.each([
    'https://static2.finnhub.io/file/publicdatany/finnhubimage/stock_logo/AAPL.png',
    'https://finnhub.io/logo/AAPL.png',
    'https://STATIC.Finnhub.IO/AAPL.png',
  ])('fetches %s (the provider’s own host, over https)', async (url) => {
    const { download, requests } = setup(() => bytes(PNG, 'image/png'));
    expect(await download('AAPL', url, {})).toBe(DATA_PNG);
    expect(requests).toHaveLength(1);
  });

  it('fetches from the configured base URL’s host, whatever its scheme (a proxy, a test double)', async () => {
    const { download, requests } = setup(
      () => bytes(PNG, 'image/png'),
      'http://127.0.0.1:8123/finnhub/api/v1',
    );
    expect(await download('AAPL', 'http://127.0.0.1:8123/finnhub/logo/AAPL.png', {})).toBe(DATA_PNG);
    expect(requests.map((r) => r.url.pathname)).toEqual(['/finnhub/logo/AAPL.png']);
  });

  it.each([
    ['another host', 'https://evil.example/AAPL.png'],
    ['a look-alike host', 'https://finnhub.io.evil.example/AAPL.png'],
    ['a host that only ends in the name', 'https://notfinnhub.io/AAPL.png'],
    ['plain http', 'http://static2.finnhub.io/AAPL.png'],
    ['another port', 'https://static2.finnhub.io:6379/AAPL.png'],
    ['credentials in the URL', 'https://user:pass@static2.finnhub.io/AAPL.png'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['loopback', 'http://127.0.0.1:6379/'],
    ['a file', 'file:///etc/passwd'],
    ['a data: URI', DATA_PNG],
    ['not a URL', 'static2.finnhub.io/AAPL.png'],
  ])('does not fetch %s: monogram, with a log line', async (_, url) => {
    const { download, requests, logged } = setup(() => bytes(PNG, 'image/png'));
    expect(await download('AAPL', url, {})).toBe('/logos/AAPL.svg');
    expect(requests).toEqual([]);
    expect(logged).toHaveLength(1);
  });

  it('answers the monogram without a request when there is no logo URL', async () => {
    const { download, requests } = setup(() => bytes(PNG, 'image/png'));
    expect(await download('SPY', undefined, {})).toBe('/logos/SPY.svg');
    expect(await download('SPY', '  ', {})).toBe('/logos/SPY.svg');
    expect(requests).toEqual([]);
  });

  it('follows a redirect only to an allowed URL, checking every hop', async () => {
    const { download, requests } = setup((url) =>
      url.pathname === '/a.png'
        ? new Response(null, { status: 302, headers: { location: '/b.png' } })
        : url.pathname === '/b.png'
          ? new Response(null, { status: 301, headers: { location: 'https://cdn.finnhub.io/c.png' } })
          : bytes(PNG, 'image/png'),
    );
    expect(await download('AAPL', 'https://static2.finnhub.io/a.png', {})).toBe(DATA_PNG);
    expect(requests.map((r) => r.url.href)).toEqual([
      'https://static2.finnhub.io/a.png',
      'https://static2.finnhub.io/b.png',
      'https://cdn.finnhub.io/c.png',
    ]);
  });

  it('does not follow a redirect off the provider’s hosts (the key would go along)', async () => {
    const { download, requests } = setup(
      () => new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/latest/' } }),
    );
    expect(await download('AAPL', 'https://static2.finnhub.io/a.png', {})).toBe('/logos/AAPL.svg');
    expect(requests).toHaveLength(1);
  });

  it('gives up on a redirect loop', async () => {
    const { download, requests } = setup(
      () => new Response(null, { status: 302, headers: { location: 'https://static2.finnhub.io/a.png' } }),
    );
    expect(await download('AAPL', 'https://static2.finnhub.io/a.png', {})).toBe('/logos/AAPL.svg');
    expect(requests.length).toBeLessThanOrEqual(4);
  });
});

describe('createLogoDownload: what is kept', () => {
  const url = 'https://static2.finnhub.io/AAPL.png';

  it.each([
    ['a 404', () => bytes('Not Found', 'text/plain', 404)],
    ['a 500', () => bytes('oops', 'text/plain', 500)],
    ['HTML', () => bytes('<html><body>Not here</body></html>', 'text/html')],
    ['JSON', () => json({ error: 'no logo' })],
    ['an image type with other bytes', () => bytes('<html><script>alert(1)</script></html>', 'image/png')],
    ['an image type it does not take', () => bytes(PNG, 'image/x-icon')],
    ['an oversized image', () => bytes(Buffer.concat([PNG, Buffer.alloc(70 * 1024)]), 'image/png')],
    ['a dropped connection', () => Promise.reject(new TypeError('fetch failed'))],
  ])('falls back to the monogram on %s', async (_, answer) => {
    const { download } = setup(answer);
    expect(await download('AAPL', url, {})).toBe('/logos/AAPL.svg');
  });

  it('falls back to the monogram on a slow image', async () => {
    // Never answers; the request's own timeout (1 s here) gives up.
    const { download } = setup(
      (_, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    expect(await download('AAPL', url, {})).toBe('/logos/AAPL.svg');
  });

  it('still throws a rate limit (the job must see it), but a refused image is just the monogram', async () => {
    const limited = setup(() => json({ error: 'API limit reached' }, 429, { 'retry-after': '7' }));
    await expect(limited.download('AAPL', url, {})).rejects.toMatchObject({
      name: 'ProviderRateLimitedError',
      retryAfterMs: 7000,
    });
    // Static hosts answer 403 for a file they do not have; the profile call already went through.
    for (const status of [401, 403]) {
      const refused = setup(() => json({ error: 'AccessDenied' }, status));
      expect(await refused.download('AAPL', url, {})).toBe('/logos/AAPL.svg');
    }
  });

  it('keeps an SVG as SVG', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';
    const { download } = setup(() => bytes(svg, 'image/svg+xml; charset=utf-8'));
    expect(await download('AAPL', url, {})).toBe(
      `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
    );
  });
});
