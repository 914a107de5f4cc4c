import { createServer } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * /metrics on a loopback port of its own (METRICS_PORT), for Prometheus on the same host. A worker has no
 * HTTP side otherwise, and this costs it no Koa: plain node:http, one route. Loopback only, so no admin
 * password is asked; the API's own /metrics stays admin-only.
 */
export async function startMetricsServer(
  registry: Pick<Registry, 'metrics' | 'contentType'>,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) =>
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
