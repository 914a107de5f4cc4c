import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeDisconnect, isClientDisconnect } from '../client-disconnect.ts';
import type { Config } from '../config.ts';
import type { Admission, Refusal } from './admission.ts';
import type { GraphqlHandler } from './app.ts';
import { fetchHeaders, parseJsonObject, queryParams, readBody } from './graphql-http.ts';
import { setSecurityHeaders } from './security.ts';

/** Serves GraphQL subscriptions over SSE (sse-subscriptions.ts); false means "not a subscription". */
export interface SubscriptionHandler {
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: { query?: unknown; variables?: unknown; operationName?: unknown },
  ): Promise<boolean>;
}

export interface SseRequestOptions {
  subscriptions: SubscriptionHandler;
  /** Yoga, for whatever asked for a stream but is not a subscription. */
  graphql: Pick<GraphqlHandler, 'fetch'>;
  admission: Admission;
  security: Pick<Config['security'], 'allowedOrigins'>;
  logger: Logger;
}

/**
 * GraphQL-over-SSE requests to /graphql, served before Koa. A subscriber holds its request open for hours,
 * and everything Koa makes for a request (its context, request and response objects, the middleware
 * chain's closures, the listeners that wait for the response to finish) would live as long: ~10,000 open
 * streams is where that shows (docs/BENCHMARKS.md, P2). Admission is decided by admission.ts, exactly as
 * for Koa's /graphql route; then the cohorts, or Yoga's answer for anything that asked for a stream but is
 * not a valid subscription.
 */
export function withSseSubscriptions(next: RequestListener, options: SseRequestOptions): RequestListener {
  return (req, res) => {
    if (!isGraphqlStreamRequest(req)) {
      next(req, res);
      return;
    }
    serve(req, res, options).catch((error: unknown) => {
      if (isClientDisconnect(error)) {
        options.logger.debug(describeDisconnect(error), 'SSE: client went away');
        return;
      }
      options.logger.error({ err: error }, 'SSE request failed');
      if (!res.headersSent) answerRefusal(res, { status: 500, message: 'Unexpected error.' });
      else res.destroy();
    });
  };
}

function isGraphqlStreamRequest(req: IncomingMessage): boolean {
  if (req.method !== 'POST' && req.method !== 'GET') return false;
  const url = req.url ?? '';
  const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
  // The same paths the Koa router answers for /graphql (not case-sensitive, not strict about a trailing
  // slash), so no spelling of it reaches Yoga's own per-subscriber SSE instead of the cohorts.
  return /^\/graphql\/?$/i.test(path) && (req.headers.accept ?? '').includes('text/event-stream');
}

async function serve(req: IncomingMessage, res: ServerResponse, options: SseRequestOptions): Promise<void> {
  setSecurityHeaders((name, value) => res.setHeader(name, value));
  const decided = await options.admission.graphql(req, 'stream');
  if ('refused' in decided) return answerRefusal(res, decided.refused);
  allowListedOrigin(req, res, options.security);
  const { admin, audit, release = () => {} } = decided.admitted;
  res.once('close', release);

  const body = req.method === 'POST' ? await readBody(req) : undefined;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const params = req.method === 'POST' ? parseJsonObject(body) : queryParams(url.searchParams);
  if (params && (await options.subscriptions.handle(req, res, params))) return;

  // A query over SSE, an invalid document, bad JSON: Yoga's answer, from the body we had to read to tell.
  const response = await options.graphql.fetch(
    `${options.admission.ownOrigin(req)}${req.url}`,
    { method: req.method, headers: fetchHeaders(req.headers), body },
    { admin, audit },
  );
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.setHeader('Cache-Control', 'no-store');
  res.writeHead(response.status);
  // Yoga's Response is a ponyfill, not Node's web stream, but it is async-iterable.
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
  }
  res.end();
  release();
}

/** A page of another origin listed in ALLOWED_ORIGINS may read the stream (CORS, with credentials). */
function allowListedOrigin(
  req: IncomingMessage,
  res: ServerResponse,
  security: SseRequestOptions['security'],
) {
  const origin = req.headers.origin;
  if (!origin || !security.allowedOrigins.includes(origin)) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Vary', 'Origin');
}

/** A refusal as a GraphQL-shaped JSON error answer, outside Koa. */
export function answerRefusal(res: ServerResponse, refusal: Refusal): void {
  const body = JSON.stringify({ errors: [{ message: refusal.message }] });
  res.writeHead(refusal.status, {
    ...refusal.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
