import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import type { Config } from '../config.ts';

/** What a request may do on the admin surfaces (Bull Board, watchlist mutations), and why not if not. */
export type AdminDecision =
  | { allowed: true; via: 'password' | 'loopback' }
  | { allowed: false; status: 401 | 403; reason: string };

/**
 * How admin access is granted:
 * - `password`: ADMIN_PASSWORD is set; HTTP Basic (any user name) or `Authorization: Bearer <password>`.
 * - `loopback`: no password and HOST is a loopback address; only requests from this machine that did not
 *   come through a proxy (no X-Forwarded-For / Forwarded) are admin, which is what a newcomer running
 *   `npm start` on a laptop expects. A reverse proxy on the same box forwards strangers from loopback, so
 *   proxied requests are refused here: a deployment behind a proxy must set ADMIN_PASSWORD.
 * - `disabled`: no password and a public HOST; admin actions are refused.
 */
export type AdminMode = 'password' | 'loopback' | 'disabled';

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/, '');
  return plain === '::1' || plain === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(plain);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function createAdminAuth(config: Pick<Config, 'server' | 'security'>) {
  const password = config.security.adminPassword;
  const mode: AdminMode = password
    ? 'password'
    : isLoopbackAddress(config.server.host)
      ? 'loopback'
      : 'disabled';
  // Comparing fixed-length digests in constant time: neither the password's content nor its length leaks
  // through how long a wrong guess takes.
  const expected = password ? digest(password) : undefined;
  const matches = (candidate: string) =>
    expected !== undefined && timingSafeEqual(digest(candidate), expected);

  /**
   * Admin rights for a request. `authorization` stands in for the request's own header: a WebSocket client
   * in a browser cannot set headers, so graphql-ws sends its credentials in `connection_init` instead.
   */
  function decide(req: IncomingMessage, authorization = req.headers.authorization): AdminDecision {
    if (mode === 'password') {
      const header = authorization ?? '';
      const space = header.indexOf(' ');
      const scheme = space === -1 ? header : header.slice(0, space);
      const value = space === -1 ? '' : header.slice(space + 1);
      let candidate: string | undefined;
      if (scheme.toLowerCase() === 'bearer') candidate = value;
      if (scheme.toLowerCase() === 'basic') {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        candidate = decoded.slice(decoded.indexOf(':') + 1);
      }
      if (candidate !== undefined && matches(candidate)) return { allowed: true, via: 'password' };
      return {
        allowed: false,
        status: 401,
        reason: header
          ? 'the admin credentials are wrong'
          : 'admin credentials are required (ADMIN_PASSWORD)',
      };
    }
    if (mode === 'loopback') {
      const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
      if (isLoopbackAddress(req.socket.remoteAddress) && !proxied) return { allowed: true, via: 'loopback' };
      return {
        allowed: false,
        status: 403,
        reason: 'admin without ADMIN_PASSWORD is only open to direct requests from this machine',
      };
    }
    return {
      allowed: false,
      status: 403,
      reason: 'admin is disabled: set ADMIN_PASSWORD to use it on a non-loopback HOST',
    };
  }

  return { mode, decide };
}

export type AdminAuth = ReturnType<typeof createAdminAuth>;

/** A request header as one string (repeated headers joined), or '' when absent. */
function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * The request's own origin as the browser sees it (scheme and host), for same-origin checks. Works on the
 * plain Node request so that WebSocket upgrades, which never reach Koa, are judged exactly like HTTP.
 */
export function requestOrigin(req: IncomingMessage, trustProxy: boolean): string {
  const forwardedProto = trustProxy ? header(req, 'x-forwarded-proto').split(',')[0]?.trim() : '';
  const forwardedHost = trustProxy ? header(req, 'x-forwarded-host').split(',')[0]?.trim() : '';
  const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${forwardedProto || protocol}://${forwardedHost || header(req, 'host')}`;
}

/**
 * Whether a browser request's Origin may use the API: its own origin, or one of ALLOWED_ORIGINS. Requests
 * without an Origin (curl, servers, same-origin GETs) are not cross-site and pass. Browsers send stored
 * credentials on WebSocket upgrades and CORS does not apply to them, so upgrades go through this too.
 */
export function originAllowed(req: IncomingMessage, config: Config['security']): boolean {
  const origin = header(req, 'origin');
  if (!origin) return true;
  if (origin === requestOrigin(req, config.trustProxy)) return true;
  return config.allowedOrigins.includes(origin);
}

/** The answer to a request from an origin that originAllowed refused, on every transport. */
export function originRefusal(req: IncomingMessage): string {
  return `origin ${req.headers.origin} is not allowed: add it to ALLOWED_ORIGINS`;
}

/** The client's address for per-client limits: the socket's, or the proxy's X-Forwarded-For when trusted. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = header(req, 'x-forwarded-for').split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

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
