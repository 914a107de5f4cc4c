import type Koa from 'koa';

/**
 * Content-Security-Policy for every page of ours (the chart, GraphiQL, Bull Board): everything from this
 * origin only. Styles may be inline because ApexCharts, Monaco and Bull Board set element styles; scripts
 * may not.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * For a stored SVG logo (an upstream's file, served from our origin at /logos/{TICKER}): opened on its own
 * it is a document that could carry script, so it gets no script, no loads and a sandbox; inline styles only,
 * for drawing. As an <img> on the page, browsers run no script in it anyway.
 */
export const SVG_LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/** What every response says about itself, whatever it is (the CSP is added by what the response is). */
export const BASE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
});

/**
 * Headers every response carries; the CSP is chosen by what the response is, unless the route set a
 * stricter one of its own (a stored SVG logo).
 */
export function securityHeaders(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const csp = ctx.response.get('Content-Security-Policy') === SVG_LOGO_CSP ? SVG_LOGO_CSP : PAGE_CSP;
    setSecurityHeaders((name, value) => ctx.set(name, value), csp);
  };
}

/**
 * Sets BASE_SECURITY_HEADERS and a Content-Security-Policy (our pages' unless told otherwise) through `set`:
 * the one place both Koa (securityHeaders) and the requests served ahead of it (sse-requests.ts) take them.
 */
export function setSecurityHeaders(set: (name: string, value: string) => void, csp = PAGE_CSP): void {
  for (const [name, value] of Object.entries(BASE_SECURITY_HEADERS)) set(name, value);
  set('Content-Security-Policy', csp);
}
