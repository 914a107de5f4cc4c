import { Readable } from 'node:stream';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import Router from '@koa/router';
import type { Queue } from 'bullmq';
import Koa from 'koa';
import compress from 'koa-compress';
import type { Logger } from 'pino';
import { renderMonogramSvg } from '../domain/monogram.ts';
import type { HealthReport } from './health.ts';
import { serveStatic } from './static-files.ts';

/** The part of a Yoga server the app needs: Node request in, Fetch response out. */
export interface GraphqlHandler {
  handleNodeRequestAndResponse(
    req: Koa.Context['req'],
    res: Koa.Context['res'],
  ): Response | Promise<Response>;
}

export interface AppOptions {
  logger: Logger;
  graphql: GraphqlHandler;
  health: () => Promise<HealthReport>;
  /** Queues shown in Bull Board at /admin/queues. */
  queues: readonly Queue[];
  /** The built chart page (dist/web); a missing folder makes / answer 404 with a hint, not crash. */
  webRoot: string;
}

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Assembles the HTTP surface. Listening is the caller's business, so tests drive this without a port and
 * the CLI decides host and port.
 */
export function buildApp(options: AppOptions): Koa {
  const app = new Koa();
  app.silent = true;
  app.on('error', (error: Error) => options.logger.warn({ err: error }, 'http error'));

  // SSE must reach the client event by event; compressing it would buffer the stream.
  app.use(
    compress({ filter: (type) => !/event-stream/i.test(type) && /json|text|javascript|svg/i.test(type) }),
  );

  const router = new Router();
  router.get('/healthz', async (ctx) => {
    const report = await options.health();
    ctx.status = report.status === 'ok' ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  router.get('/logos/:file', (ctx) => {
    const match = /^(.+)\.svg$/.exec(ctx.params.file ?? '');
    const svg = match ? renderMonogramSvg(match[1]!) : undefined;
    if (!svg) {
      ctx.status = 404;
      ctx.body = { error: 'wanted /logos/{TICKER}.svg with a valid ticker' };
      return;
    }
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = svg;
  });
  router.all('/graphql', async (ctx) => {
    const response = await options.graphql.handleNodeRequestAndResponse(ctx.req, ctx.res);
    ctx.status = response.status;
    response.headers.forEach((value, key) => {
      ctx.set(key, value);
    });
    // Yoga's Response is a ponyfill, not Node's web stream, but it is async-iterable.
    ctx.body = response.body ? Readable.from(response.body as unknown as AsyncIterable<Uint8Array>) : null;
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  app.use(bullBoard(options.queues));
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
function bullBoard(queues: readonly Queue[]): Koa.Middleware {
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
    await plugin(ctx, next);
    if (typeof ctx.body === 'string' && ctx.response.is('html')) {
      ctx.body = ctx.body.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, '');
    }
  };
}
