import type { RequestListener } from 'node:http';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import Router from '@koa/router';
import type { Queue } from 'bullmq';
import Koa from 'koa';
import compress from 'koa-compress';
import type { Logger } from 'pino';
import { describeDisconnect, isClientDisconnect } from '../client-disconnect.ts';
import type { Config } from '../config.ts';
import { renderMonogramSvg } from '../domain/monogram.ts';
import { type ClientLimits, createClientLimits } from './client-limits.ts';
import { graphqlBodyProblem } from './graphql-http.ts';
import type { HealthReport } from './health.ts';
import { type Metric, renderPrometheus } from './metrics.ts';
import {
  type AdminAuth,
  type AdminDecision,
  clientAddress,
  originAllowed,
  originRefusal,
  requestOrigin,
  SVG_LOGO_CSP,
  securityHeaders,
} from './security.ts';
import { type GraphqlFetch, type SubscriptionHandler, withSseSubscriptions } from './sse-requests.ts';
import { serveStatic } from './static-files.ts';

/** The part of a Yoga server the app needs: Node request in, Fetch response out, admin rights passed on. */
export interface GraphqlHandler extends GraphqlFetch {
  handleNodeRequestAndResponse(
    req: Koa.Context['req'],
    res: Koa.Context['res'],
    context: { admin: AdminDecision },
  ): Response | Promise<Response>;
}

export { MAX_GRAPHQL_BODY_BYTES } from './graphql-http.ts';

export interface AppOptions {
  logger: Logger;
  graphql: GraphqlHandler;
  /** Subscriptions over SSE, served ahead of Koa by `createRequestListener` (src/server/sse-requests.ts). */
  subscriptions?: SubscriptionHandler;
  security: Config['security'];
  adminAuth: AdminAuth;
  /**
   * Per-client rate and subscription caps; pass the instance the WebSocket upgrade uses too, so both
   * transports draw on one allowance. Made from `security` when absent.
   */
  clientLimits?: ClientLimits;
  health: () => Promise<HealthReport>;
  /** Gathers the figures served at /metrics (Prometheus text; admin only). */
  metrics?: () => Promise<Metric[]>;
  /** Queues shown in Bull Board at /admin/queues. */
  queues: readonly Queue[];
  /** The built chart page (dist/web); a missing folder makes / answer 404 with a hint, not crash. */
  webRoot: string;
  /**
   * The logo image stored for a ticker (decoded from its `data:` URI), served at /logos/{TICKER}; undefined
   * when there is none, and the monogram is served instead. Absent: every /logos/{TICKER} is the monogram.
   */
  logoImage?: (ticker: string) => Promise<{ contentType: string; bytes: Buffer } | undefined>;
}

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Assembles the HTTP surface. Listening is the caller's business, so tests drive this without a port and
 * the CLI decides host and port.
 */
export function buildApp(options: AppOptions): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (error: Error) =>
    isClientDisconnect(error)
      ? options.logger.debug(describeDisconnect(error), 'http: client went away')
      : options.logger.warn({ err: error }, 'http error'),
  );
  if (options.security.trustProxy) app.proxy = true;
  app.use(securityHeaders());

  // SSE must reach the client event by event; compressing it would buffer the stream. Low levels: a
  // 7-day history answer is ~500 kB of JSON, which gzip's default level takes ~20 ms of this process's
  // one thread to compress and level 2 about 5 ms, for ~20% more bytes (brotli 2 is smaller than gzip 6).
  // The page's own files are compressed once, at build time.
  app.use(
    compress({
      filter: (type) => !/event-stream/i.test(type) && /json|text|javascript|svg/i.test(type),
      gzip: { level: 2 },
      br: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 2 } },
    }),
  );

  const router = new Router();
  router.get('/healthz', async (ctx) => {
    const report = await options.health();
    ctx.status = report.status === 'ok' ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  router.get('/metrics', async (ctx) => {
    const admin = options.adminAuth.decide(ctx.req);
    if (!admin.allowed) {
      ctx.status = admin.status;
      if (admin.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="stockstreamer admin"');
      ctx.body = { error: admin.reason };
      return;
    }
    ctx.type = 'text/plain; version=0.0.4; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderPrometheus(options.metrics ? await options.metrics() : []);
  });
  router.get('/logos/:file', async (ctx) => {
    const file = ctx.params.file ?? '';
    const monogram = /^(.+)\.svg$/.exec(file);
    // /logos/{TICKER}.svg is always the monogram; /logos/{TICKER} the stored logo, or else the monogram.
    const ticker = monogram ? monogram[1]! : file;
    const svg = renderMonogramSvg(ticker);
    if (!svg) {
      ctx.status = 404;
      ctx.body = { error: 'wanted /logos/{TICKER} or /logos/{TICKER}.svg with a valid ticker' };
      return;
    }
    if (!monogram) {
      let image: { contentType: string; bytes: Buffer } | undefined;
      let cacheable = true;
      try {
        image = await options.logoImage?.(ticker);
      } catch (error) {
        // The database is away: the monogram for now, not remembered by the browser.
        options.logger.warn({ err: error, ticker }, 'could not read a stored logo; serving the monogram');
        cacheable = false;
      }
      if (image) {
        ctx.type = image.contentType;
        ctx.set('Cache-Control', 'public, max-age=3600');
        if (image.contentType === 'image/svg+xml') ctx.set('Content-Security-Policy', SVG_LOGO_CSP);
        ctx.body = image.bytes;
        return;
      }
      // No image yet: the monogram, briefly, so a logo stored later shows without waiting out a cache.
      ctx.type = 'image/svg+xml';
      ctx.set('Cache-Control', cacheable ? 'public, max-age=60' : 'no-store');
      ctx.body = svg;
      return;
    }
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = svg;
  });
  const limits = clientLimitsOf(options).middleware((ctx) =>
    clientAddress(ctx.req, options.security.trustProxy),
  );
  router.all('/graphql', refuseCrossOrigin(options.security), checkBody, limits, async (ctx) => {
    const admin = options.adminAuth.decide(ctx.req);
    const response = await options.graphql.handleNodeRequestAndResponse(ctx.req, ctx.res, { admin });
    ctx.status = response.status;
    response.headers.forEach((value, key) => {
      ctx.set(key, value);
    });
    // Yoga's Response is a ponyfill, not Node's web stream, but it is async-iterable.
    ctx.body = response.body ? Readable.from(response.body as unknown as AsyncIterable<Uint8Array>) : null;
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  app.use(bullBoard(options.queues, options.adminAuth, options.security));
  app.use(serveStatic(options.webRoot));
  app.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined && ctx.path === '/') {
      ctx.type = 'text/plain';
      ctx.body = 'The chart page is not built: run `npm run build:web` (npm start does it for you).\n';
    }
  });
  return app;
}

/**
 * Bull Board at /admin/queues. Its stock page links a web font from Google; we serve nothing from outside
 * hosts, so that one link is taken out of the HTML and the page falls back to system fonts.
 */
function bullBoard(
  queues: readonly Queue[],
  adminAuth: AdminAuth,
  security: Config['security'],
): Koa.Middleware {
  const adapter = new KoaAdapter();
  adapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'stockstreamer' } },
  });
  const plugin = adapter.registerPlugin();
  return async (ctx, next) => {
    if (ctx.path !== BULL_BOARD_PATH && !ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) return next();
    const admin = adminAuth.decide(ctx.req);
    if (!admin.allowed) {
      ctx.status = admin.status;
      if (admin.status === 401)
        ctx.set('WWW-Authenticate', 'Basic realm="stockstreamer admin", charset="UTF-8"');
      ctx.body = { error: admin.reason };
      return;
    }
    // Basic credentials ride along on every browser request, so a page elsewhere could make the browser
    // retry or remove jobs: state-changing calls must come from Bull Board's own page.
    if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method) && !sameSiteRequest(ctx, security)) {
      ctx.status = 403;
      ctx.body = { error: 'cross-site request refused: Bull Board actions must come from its own page' };
      return;
    }
    await plugin(ctx, next);
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, '');
    }
  };
}

/** A browser request made by a page of this origin (Origin, or Sec-Fetch-Site where Origin is absent). */
function sameSiteRequest(ctx: Koa.Context, security: Config['security']): boolean {
  const origin = ctx.get('origin');
  if (origin) return origin === requestOrigin(ctx.req, security.trustProxy);
  const site = ctx.get('sec-fetch-site');
  // No Origin and no Sec-Fetch-Site: not a browser (curl, scripts), which cannot be tricked cross-site.
  return site === '' || site === 'same-origin' || site === 'none';
}

/** Pages of other origins may call /graphql only when listed in ALLOWED_ORIGINS. */
function refuseCrossOrigin(security: Config['security']): Koa.Middleware {
  return async (ctx, next) => {
    if (originAllowed(ctx.req, security)) return next();
    ctx.status = 403;
    ctx.body = {
      errors: [{ message: originRefusal(ctx.req) }],
    };
  };
}

/** The body checks of graphql-http.ts, as Koa middleware. */
const checkBody: Koa.Middleware = async (ctx, next) => {
  const problem = graphqlBodyProblem(ctx.req);
  if (!problem) return next();
  ctx.status = problem.status;
  ctx.body = { errors: [{ message: problem.message }] };
  // Do not read the rest of a large body; let the client see the answer and close.
  if (problem.status === 413) ctx.set('Connection', 'close');
};

/** The per-client limits given, or made from the security settings. */
function clientLimitsOf(options: AppOptions): ClientLimits {
  return (
    options.clientLimits ??
    createClientLimits({
      perMinute: options.security.rateLimitPerMinute,
      maxStreams: options.security.maxSubscriptionsPerClient,
    })
  );
}

/**
 * The whole HTTP surface as a Node request listener: GraphQL subscriptions over SSE are served ahead of
 * Koa (see sse-requests.ts for why), everything else by the Koa app.
 */
export function createRequestListener(options: AppOptions): RequestListener {
  // One allowance per client, whether a request is served by Koa or ahead of it.
  const shared = { ...options, clientLimits: clientLimitsOf(options) };
  const koa = buildApp(shared).callback();
  if (!shared.subscriptions) return koa;
  return withSseSubscriptions(koa, {
    subscriptions: shared.subscriptions,
    graphql: shared.graphql,
    security: shared.security,
    adminAuth: shared.adminAuth,
    limits: shared.clientLimits,
    logger: shared.logger,
  });
}
