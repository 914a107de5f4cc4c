import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
};

/**
 * Serves the built page from `root` for GET and HEAD. Vite names assets by content hash, so those are
 * cached for a year; index.html is revalidated so a new build shows at once. Paths are resolved and
 * checked to stay inside `root`, so `..` cannot reach other files.
 */
export function serveStatic(root: string): Middleware {
  const base = path.resolve(root);
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    let relative: string;
    try {
      relative = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    if (relative.endsWith('/')) relative += 'index.html';
    const file = path.resolve(base, `.${relative}`);
    if (file !== base && !file.startsWith(base + path.sep)) return next();
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return next();
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.length = info.size;
    ctx.lastModified = info.mtime;
    ctx.set(
      'Cache-Control',
      relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    if (ctx.method === 'HEAD') {
      // Koa answers a body-less response with 204; HEAD must mirror GET's 200 and length.
      ctx.status = 200;
      ctx.length = info.size;
      return;
    }
    ctx.body = createReadStream(file);
  };
}
