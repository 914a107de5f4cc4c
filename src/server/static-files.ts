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

/** Precompressed siblings the build writes (web/vite.config.ts), in the order they are preferred. */
const PRECOMPRESSED = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

/**
 * Serves the built page from `root` for GET and HEAD. Vite names assets by content hash, so those are
 * cached for a year; index.html is revalidated so a new build shows at once. Where the build left a
 * `.br` or `.gz` beside a file and the client takes that encoding, that file is sent as it is: no
 * compressing per request. Paths are resolved and checked to stay inside `root`, so `..` cannot reach
 * other files.
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
    ctx.vary('Accept-Encoding');
    let sent = { file, size: info.size };
    for (const { encoding, suffix } of PRECOMPRESSED) {
      if (ctx.acceptsEncodings(encoding, 'identity') !== encoding) continue;
      const packed = await stat(file + suffix).catch(() => undefined);
      if (!packed?.isFile()) continue;
      sent = { file: file + suffix, size: packed.size };
      ctx.set('Content-Encoding', encoding);
      break;
    }
    ctx.length = sent.size;
    ctx.lastModified = info.mtime;
    ctx.set(
      'Cache-Control',
      relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    if (ctx.method === 'HEAD') {
      // Koa answers a body-less response with 204; HEAD must mirror GET's 200 and length.
      ctx.status = 200;
      ctx.length = sent.size;
      return;
    }
    ctx.body = createReadStream(sent.file);
  };
}
