import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import proxyaddr from 'proxy-addr';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import type { AdminDecision, AdminMode, Audit, AuditEvent } from '../domain/admin.ts';
import { type ClientLimits, type Release, tooManySubscriptions } from './client-limits.ts';
import { graphqlBodyProblem } from './graphql-http.ts';

/**
 * Failed admin logins a client may make in ADMIN_LOGIN_WINDOW_S before every credentialed request from it
 * is answered 429 (correct password or not, so the answers tell a guesser nothing) until the window ends.
 */
export const ADMIN_LOGIN_ATTEMPTS = 10;
export const ADMIN_LOGIN_WINDOW_S = 15 * 60;

/**
 * Headers a proxy (or a client pretending to be behind one) adds to say who the client was. A request that
 * carries any of them did not come straight from this machine, whatever its socket says.
 */
const PROXY_HEADERS = new Set([
  'forwarded',
  'via',
  'x-real-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
  'client-ip',
  'forwarded-for',
  'x-original-forwarded-for',
  'x-proxyuser-ip',
]);

function carriesProxyHeader(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some(
    (name) => PROXY_HEADERS.has(name) || name.startsWith('x-forwarded') || name.startsWith('x-original-'),
  );
}

/** What a transport answers when admission says no: status, message, extra headers. */
export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** What a request that was let through carries on: who it is, what it may do, where its audit goes. */
export interface Admitted {
  client: string;
  admin: AdminDecision;
  audit: Audit;
  /** Gives back the stream or socket slot taken for this request (absent when none was taken). */
  release?: Release;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/, '');
  return plain === '::1' || /^127\.\d+\.\d+\.\d+$/.test(plain);
}

/** The host name of a Host header value, lower-cased, without its port (IPv6 keeps its brackets). */
function hostName(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.indexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

function isLoopbackHostName(name: string): boolean {
  return name === 'localhost' || name === '[::1]' || isLoopbackAddress(name);
}

/** Whether a HOST setting (a name or an address) binds this machine only. */
export function bindsToLoopback(host: string): boolean {
  return isLoopbackHostName(host.toLowerCase()) || isLoopbackAddress(host);
}

/** A request header as one string (repeated headers joined), or '' when absent. */
function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The password an Authorization header carries (Basic with any user name, or Bearer), if any. */
function presentedPassword(authorization: string): string | undefined {
  const space = authorization.indexOf(' ');
  const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
  const value = space === -1 ? '' : authorization.slice(space + 1);
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return undefined;
}

export interface AdmissionOptions {
  server: Config['server'];
  security: Config['security'];
  limits: ClientLimits;
  logger: Logger;
  /** Where failed logins are counted, shared by every API process; memory-only when absent (tests of one). */
  redis?: Redis;
  /** Namespace of the failed-login counters in Redis (QUEUE_PREFIX). */
  keyPrefix: string;
}

/**
 * The one place that decides whether a request gets in, and with what rights: the Host allow-list, the
 * Origin, the body, the per-client rate and stream caps, who the client is, and admin (with a limit on
 * failed logins and an audit line for each). The Koa routes, the SSE path ahead of Koa and the WebSocket
 * upgrade all ask it, so a check added here holds on every transport.
 */
export function createAdmission(options: AdmissionOptions) {
  const { server, security, limits, logger } = options;
  const password = security.adminPassword;
  const mode: AdminMode = password ? 'password' : bindsToLoopback(server.host) ? 'loopback' : 'disabled';
  // Fixed-length digests compared in constant time: neither the password's content nor its length leaks
  // through how long a wrong guess takes.
  const expected = password ? digest(password) : undefined;
  const trust = (_address: string, hop: number) => hop < security.trustProxy;

  const limiterOptions = {
    keyPrefix: `${options.keyPrefix}:admin-login-failures`,
    points: ADMIN_LOGIN_ATTEMPTS,
    duration: ADMIN_LOGIN_WINDOW_S,
  };
  const memoryLimiter = new RateLimiterMemory(limiterOptions);
  // With Redis away, counting goes on in this process's memory rather than opening the door or hanging.
  const failedLogins = options.redis
    ? new RateLimiterRedis({
        ...limiterOptions,
        storeClient: options.redis,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memoryLimiter,
      })
    : memoryLimiter;

  /**
   * The client's address: the socket's, or with TRUST_PROXY=N the address the outermost of the N trusted
   * proxies saw (proxy-addr walks X-Forwarded-For from the right, so entries a client wrote are never taken).
   */
  function client(req: IncomingMessage): string {
    return proxyaddr(req, trust) ?? req.socket.remoteAddress ?? 'unknown';
  }

  function auditFor(clientAddress: string): Audit {
    return (event: AuditEvent) => logger.info({ audit: { client: clientAddress, ...event } }, 'audit');
  }

  /**
   * DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 reaches this server
   * same-origin, with `Host: evil.example`. Only the names this server is meant for are answered: loopback
   * names (any port: the server's own port is all a loopback name can reach) and ALLOWED_HOSTS.
   */
  function hostRefusal(req: IncomingMessage): Refusal | undefined {
    const host = header(req, 'host').trim().toLowerCase();
    if (host) {
      const name = hostName(host);
      if (isLoopbackHostName(name)) return undefined;
      if (security.allowedHosts.some((allowed) => allowed === host || allowed === name)) return undefined;
    }
    const served = ['localhost', '127.0.0.1', '[::1]', ...security.allowedHosts].join(', ');
    return {
      status: 421,
      message: `Host ${host ? JSON.stringify(host) : '(none)'} is not served here: this server answers to ${served}; add the name to ALLOWED_HOSTS`,
    };
  }

  /** The request's own origin as the browser sees it, for same-origin checks. */
  function ownOrigin(req: IncomingMessage): string {
    const forwardedProto =
      security.trustProxy > 0 ? header(req, 'x-forwarded-proto').split(',')[0]?.trim() : '';
    const protocol = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    return `${forwardedProto || protocol}://${header(req, 'host')}`;
  }

  /**
   * Pages of other origins may use the API only when listed in ALLOWED_ORIGINS. Requests without an Origin
   * (curl, servers, same-origin GETs) are not cross-site. WebSocket upgrades go through this too: CORS does
   * not apply to them and browsers send stored credentials with them.
   */
  function originRefusal(req: IncomingMessage): Refusal | undefined {
    const origin = header(req, 'origin');
    if (!origin || origin === ownOrigin(req) || security.allowedOrigins.includes(origin)) return undefined;
    return { status: 403, message: `origin ${origin} is not allowed: add it to ALLOWED_ORIGINS` };
  }

  /**
   * A browser request made by a page of this origin (Origin, or Sec-Fetch-Site where Origin is absent). No
   * Origin and no Sec-Fetch-Site: not a browser (curl, scripts), which cannot be tricked cross-site.
   */
  function sameSite(req: IncomingMessage): boolean {
    const origin = header(req, 'origin');
    if (origin) return origin === ownOrigin(req);
    const site = header(req, 'sec-fetch-site');
    return site === '' || site === 'same-origin' || site === 'none';
  }

  /**
   * Admin rights for a request. `authorization` stands in for the request's own header: a browser cannot
   * put headers on a WebSocket, so graphql-ws sends its credentials in `connection_init` instead. A wrong
   * password counts against the client's failed logins and is audited; past the limit, 429.
   */
  async function admin(
    req: IncomingMessage,
    authorization = req.headers.authorization,
    target = (req.url ?? '/').split('?')[0]!,
  ): Promise<AdminDecision | Refusal> {
    if (mode === 'loopback') {
      // A reverse proxy on this box forwards strangers from loopback; a rebinding page sends its own Host.
      const direct =
        isLoopbackAddress(req.socket.remoteAddress) &&
        isLoopbackHostName(hostName(header(req, 'host'))) &&
        !carriesProxyHeader(req);
      if (direct) return { allowed: true, via: 'loopback' };
      return {
        allowed: false,
        status: 403,
        reason:
          'admin without ADMIN_PASSWORD is only open to direct requests from this machine (loopback Host, no proxy headers)',
      };
    }
    if (mode === 'disabled') {
      return {
        allowed: false,
        status: 403,
        reason: 'admin is disabled: set ADMIN_PASSWORD to use it on a non-loopback HOST',
      };
    }
    if (!authorization) {
      return { allowed: false, status: 401, reason: 'admin credentials are required (ADMIN_PASSWORD)' };
    }
    const who = client(req);
    const audit = auditFor(who);
    const failures = await failedLogins.get(who);
    if (failures && failures.remainingPoints <= 0) {
      audit({ action: 'admin.login', target, outcome: 'blocked' });
      return tooManyFailures(failures.msBeforeNext);
    }
    const candidate = presentedPassword(authorization);
    if (candidate !== undefined && expected && timingSafeEqual(digest(candidate), expected)) {
      return { allowed: true, via: 'password' };
    }
    await failedLogins.penalty(who).catch(() => undefined);
    audit({ action: 'admin.login', target, outcome: 'refused' });
    return { allowed: false, status: 401, reason: 'the admin credentials are wrong' };
  }

  function tooManyFailures(msBeforeNext: number): Refusal {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return {
      status: 429,
      message: `too many failed admin logins from this client: at most ${ADMIN_LOGIN_ATTEMPTS} per ${ADMIN_LOGIN_WINDOW_S / 60} minutes; try again in ${seconds} s`,
      headers: { 'Retry-After': String(seconds) },
    };
  }

  /**
   * A GraphQL request on any transport: Origin, body (HTTP only), the per-client rate, the stream or socket
   * cap, then admin rights. `kind` says which cap applies: a plain request takes none, an SSE stream one
   * subscription slot, a WebSocket one socket slot (its subscriptions take theirs as they start).
   */
  async function graphql(
    req: IncomingMessage,
    kind: 'request' | 'stream' | 'websocket',
  ): Promise<{ refused: Refusal } | { admitted: Admitted }> {
    const origin = originRefusal(req);
    if (origin) return { refused: origin };
    if (kind !== 'websocket') {
      const problem = graphqlBodyProblem(req);
      // Do not read the rest of a large body; let the client see the answer and close.
      if (problem)
        return {
          refused: { ...problem, headers: problem.status === 413 ? { Connection: 'close' } : undefined },
        };
    }
    const who = client(req);
    const request = limits.takeRequest(who);
    if (!request.allowed) {
      return {
        refused: { status: 429, message: request.message, headers: { 'Retry-After': request.retryAfter } },
      };
    }
    let release: Release | undefined;
    if (kind === 'stream') {
      release = limits.reserveStream(who);
      if (!release) return { refused: { status: 429, message: tooManySubscriptions(limits.maxStreams) } };
    }
    if (kind === 'websocket') {
      release = limits.reserveSocket(who);
      if (!release) {
        return {
          refused: {
            status: 429,
            message: `too many open WebSockets: at most ${limits.maxStreams} per client`,
          },
        };
      }
    }
    const decision = await admin(req);
    if (!('allowed' in decision)) {
      release?.();
      return { refused: decision };
    }
    return { admitted: { client: who, admin: decision, audit: auditFor(who), release } };
  }

  /**
   * A download (`/export/prices.csv`): checked like a GraphQL request — Origin, the per-client rate —
   * and, since it holds a database connection while it streams, it takes one of the client's stream slots.
   */
  async function download(req: IncomingMessage): Promise<{ refused: Refusal } | { admitted: Admitted }> {
    const origin = originRefusal(req);
    if (origin) return { refused: origin };
    const who = client(req);
    const request = limits.takeRequest(who);
    if (!request.allowed) {
      return {
        refused: { status: 429, message: request.message, headers: { 'Retry-After': request.retryAfter } },
      };
    }
    const release = limits.reserveStream(who);
    if (!release) {
      const message = `too many open streams: at most ${limits.maxStreams} subscriptions and exports at once per client`;
      return { refused: { status: 429, message } };
    }
    const decision = await admin(req);
    if (!('allowed' in decision)) {
      release();
      return { refused: decision };
    }
    return { admitted: { client: who, admin: decision, audit: auditFor(who), release } };
  }

  /** An admin page (Bull Board, /metrics): admitted only with admin rights. */
  async function adminPage(
    req: IncomingMessage,
    challenge: 'Basic' | 'Bearer',
  ): Promise<{ refused: Refusal } | { admitted: Admitted }> {
    const decision = await admin(req);
    if (!('allowed' in decision)) return { refused: decision };
    if (!decision.allowed) {
      const headers: Record<string, string> | undefined =
        decision.status === 401
          ? {
              'WWW-Authenticate':
                challenge === 'Basic'
                  ? 'Basic realm="stockstreamer admin", charset="UTF-8"'
                  : 'Bearer realm="stockstreamer admin"',
            }
          : undefined;
      return { refused: { status: decision.status, message: decision.reason, headers } };
    }
    const who = client(req);
    return { admitted: { client: who, admin: decision, audit: auditFor(who) } };
  }

  return {
    mode,
    client,
    ownOrigin,
    hostRefusal,
    originRefusal,
    sameSite,
    admin,
    graphql,
    download,
    adminPage,
  };
}

export type Admission = ReturnType<typeof createAdmission>;
