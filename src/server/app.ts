import { readFile } from 'node:fs/promises';
import path from 'node:path';
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
import type { Registry } from 'prom-client';
import { parseTickers, parseWindow } from '../../graphql/arguments.ts';
import { parseInstant } from '../../graphql/scalars.ts';
import { describeDisconnect, isClientDisconnect } from '../client-disconnect.ts';
import type { Config } from '../config.ts';
import type { AdminDecision, Audit } from '../domain/admin.ts';
import { renderMonogramSvg } from '../domain/monogram.ts';
import { exportFileName, type PriceExport, parseExportQuery } from '../domain/price-export.ts';
import type { Admission, Refusal } from './admission.ts';
import type { FirstFrame } from './first-frame.ts';
import { type HealthReport, healthHttpStatus } from './health.ts';
import { SVG_LOGO_CSP, securityHeaders } from './security.ts';
import { serveStatic } from './static-files.ts';

/** What a GraphQL request's resolvers get from the edge: admin rights, and the audit trail of its client. */
export interface GraphqlRequestContext {
  admin: AdminDecision;
  audit: Audit;
}

/** The part of a Yoga server the app needs: Node request in, Fetch response out, admin rights passed on. */
export interface GraphqlHandler {
  handleNodeRequestAndResponse(
    req: Koa.Context['req'],
    res: Koa.Context['res'],
    context: GraphqlRequestContext,
  ): Response | Promise<Response>;
  fetch(url: string, init: RequestInit, context: GraphqlRequestContext): Response | Promise<Response>;
}

export interface AppOptions {
  logger: Logger;
  graphql: GraphqlHandler;
  /** Decides Host, Origin, body, rate, caps and admin (admission.ts), as for every other transport. */
  admission: Admission;
  /** `bullBoardWrite`: Bull Board may change queues and jobs; read-only otherwise. */
  security: Pick<Config['security'], 'bullBoardWrite'>;
  health: () => Promise<HealthReport>;
  /** What /metrics serves (admin only): the process's registry (src/metrics.ts), read at each scrape. */
  metrics?: Pick<Registry, 'metrics' | 'contentType'>;
  /** Queues shown in Bull Board at /admin/queues. */
  queues: readonly Queue[];
  /** The built chart page (dist/web); a missing folder makes / answer 404 with a hint, not crash. */
  webRoot: string;
  /**
   * The logo image stored for a ticker (decoded from its `data:` URI), served at /logos/{TICKER}; undefined
   * when there is none, and the monogram is served instead. Absent: every /logos/{TICKER} is the monogram.
   */
  logoImage?: (ticker: string) => Promise<{ contentType: string; bytes: Buffer } | undefined>;
  /** Prices as CSV bytes for /export/prices.csv (src/db/price-export.ts); absent: the route answers 404. */
  exportPrices?: (request: PriceExport) => Promise<Readable>;
  /** The chart's first frame, put into the page's HTML (first-frame.ts); absent: the page as built. */
  firstFrame?: FirstFrame;
}

/** Where the chart's first frame goes in the built page (web/index.html). */
export const CHART_CONTAINER = '<div data-testid="price-chart"></div>';
/** Where the watchlist's cards go, held open until the page's code fills them in. */
export const CARDS_CONTAINER = '<div class="cards" data-testid="ticker-cards"></div>';

/**
 * Exports one API process streams at once: each holds a database connection for as long as its reader
 * takes, and the pool's other connections serve the page and the API.
 */
export const MAX_CONCURRENT_EXPORTS = 2;

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
    ctx.status = healthHttpStatus(report);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  router.get('/metrics', async (ctx) => {
    const decided = await options.admission.adminPage(ctx.req, 'Bearer');
    if ('refused' in decided) return refuse(ctx, decided.refused, (message) => ({ error: message }));
    ctx.set('Cache-Control', 'no-store');
    if (!options.metrics) {
      ctx.status = 404;
      return;
    }
    ctx.type = options.metrics.contentType;
    ctx.body = await options.metrics.metrics();
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
  let exporting = 0;
  /** Answers an admitted export; true when a stream was handed to the response (it frees its own slots). */
  async function serveExport(ctx: Koa.Context, release: () => void): Promise<boolean> {
    const parsed = parseExportQuery(new URLSearchParams(ctx.querystring), {
      tickers: (raw) => parseTickers('tickers', raw),
      window: (from, to) => parseWindow(from, to, new Date()),
      instant: parseInstant,
    });
    if (!parsed.ok) {
      ctx.status = 400;
      ctx.body = { error: parsed.error };
      return false;
    }
    if (!options.exportPrices) return false;
    if (exporting >= MAX_CONCURRENT_EXPORTS) {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
      ctx.body = {
        error: `${MAX_CONCURRENT_EXPORTS} exports are streaming already; try again in a few seconds`,
      };
      return false;
    }
    exporting += 1;
    let stream: Readable;
    try {
      stream = await options.exportPrices(parsed.request);
    } catch (error) {
      exporting -= 1;
      options.logger.warn({ err: error }, 'export: could not start');
      ctx.status = 503;
      ctx.body = { error: 'the database cannot be read just now; try again shortly' };
      return false;
    }
    ctx.res.once('close', () => {
      exporting -= 1;
      release();
    });
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="${exportFileName(parsed.request)}"`);
    ctx.body = stream;
    return true;
  }
  router.get('/export/prices.csv', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const decided = await options.admission.download(ctx.req);
    if ('refused' in decided) return refuse(ctx, decided.refused, (message) => ({ error: message }));
    const release = decided.admitted.release ?? (() => {});
    let streaming = false;
    try {
      streaming = await serveExport(ctx, release);
    } finally {
      if (!streaming) release();
    }
  });
  router.all('/graphql', async (ctx) => {
    const isStream = ctx.get('accept').includes('text/event-stream');
    const decided = await options.admission.graphql(ctx.req, isStream ? 'stream' : 'request');
    if ('refused' in decided) return refuse(ctx, decided.refused, graphqlError);
    const { admin, audit, release } = decided.admitted;
    // Streams to /graphql are served ahead of Koa (sse-requests.ts); one that reaches the route anyway
    // holds its subscription slot until it closes.
    if (release) ctx.res.once('close', release);
    const response = await options.graphql.handleNodeRequestAndResponse(ctx.req, ctx.res, { admin, audit });
    ctx.status = response.status;
    response.headers.forEach((value, key) => {
      ctx.set(key, value);
    });
    // Yoga's GraphiQL page says text/html without a charset.
    if (/^text\/html\s*$/i.test(ctx.response.get('Content-Type'))) ctx.type = 'text/html; charset=utf-8';
    // Answers depend on the caller's rights and on the moment: no cache may keep them.
    if (!ctx.response.is('text/event-stream')) ctx.set('Cache-Control', 'no-store');
    // Yoga's Response is a ponyfill, not Node's web stream, but it is async-iterable.
    ctx.body = response.body ? Readable.from(response.body as unknown as AsyncIterable<Uint8Array>) : null;
  });
  if (options.firstFrame)
    router.get(['/', '/index.html'], pageWithFirstFrame(options.webRoot, options.firstFrame));
  app.use(router.routes());
  app.use(router.allowedMethods());

  app.use(bullBoard(options));
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
 * The chart page with its first frame in the chart's container and the cards' room held in theirs. Read
 * from the build at each request, so a new build shows at once; a page without the chart's container, or
 * no build at all, falls through to the static files (which answer 404 with a hint when nothing is built).
 */
function pageWithFirstFrame(webRoot: string, firstFrame: FirstFrame): Koa.Middleware {
  return async (ctx, next) => {
    const page = await readFile(path.join(webRoot, 'index.html'), 'utf8').catch(() => undefined);
    if (page === undefined || !page.includes(CHART_CONTAINER)) return next();
    const { chart, cards } = await firstFrame.markup(ctx.get('cookie') || undefined);
    ctx.type = 'text/html; charset=utf-8';
    // The frame follows the cookie and the moment: revalidated on every load, by cookie.
    ctx.set('Cache-Control', 'no-cache');
    ctx.vary('Cookie');
    ctx.body = fillContainer(fillContainer(page, CHART_CONTAINER, chart), CARDS_CONTAINER, cards);
  };
}

/** `page` with `content` inside the first empty `container` (`<div …></div>`), if there is one. */
function fillContainer(page: string, container: string, content: string): string {
  const at = page.indexOf(container);
  if (at < 0 || content === '') return page;
  const open = at + container.length - '</div>'.length;
  return page.slice(0, open) + content + page.slice(open);
}

/**
 * Bull Board at /admin/queues. Its stock page links a web font from Google; we serve nothing from outside
 * hosts, so that one link is taken out of the HTML and the page falls back to system fonts. Read-only
 * (no pause, retry, clean, add or edit) unless BULL_BOARD_WRITE=true: adding a job to the prices queue
 * writes whatever it carries into stock_prices.
 */
function bullBoard(options: AppOptions): Koa.Middleware {
  const { admission, security } = options;
  const adapter = new KoaAdapter();
  adapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: options.queues.map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: !security.bullBoardWrite }),
    ),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'stockstreamer' } },
  });
  const plugin = adapter.registerPlugin();
  return async (ctx, next) => {
    if (ctx.path !== BULL_BOARD_PATH && !ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) return next();
    ctx.set('Cache-Control', 'no-store');
    const decided = await admission.adminPage(ctx.req, 'Basic');
    if ('refused' in decided) return refuse(ctx, decided.refused, (message) => ({ error: message }));
    const changes = !['GET', 'HEAD', 'OPTIONS'].includes(ctx.method);
    // Basic credentials ride along on every browser request, so a page elsewhere could make the browser
    // retry or remove jobs: state-changing calls must come from Bull Board's own page.
    if (changes && !admission.sameSite(ctx.req)) {
      decided.admitted.audit({ action: `bull-board.${ctx.method}`, target: ctx.path, outcome: 'refused' });
      ctx.status = 403;
      ctx.body = { error: 'cross-site request refused: Bull Board actions must come from its own page' };
      return;
    }
    try {
      await plugin(ctx, next);
    } finally {
      if (changes) {
        decided.admitted.audit({
          action: `bull-board.${ctx.method}`,
          target: ctx.path,
          outcome: ctx.status < 400 ? 'ok' : ctx.status === 405 ? 'refused' : 'failed',
        });
      }
    }
    // The plugin sets its own caching headers on its files; admin pages are never kept.
    ctx.set('Cache-Control', 'no-store');
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, '');
    }
  };
}

const graphqlError = (message: string) => ({ errors: [{ message }] });

/** Answers a refusal of admission.ts in Koa, with the body shape of the route. */
function refuse(ctx: Koa.Context, refusal: Refusal, body: (message: string) => object): void {
  ctx.status = refusal.status;
  for (const [name, value] of Object.entries(refusal.headers ?? {})) ctx.set(name, value);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body(refusal.message);
}
