import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from './static-files.ts';

const SCRIPT = `console.log(${JSON.stringify('stockstreamer '.repeat(200))});\n`;

/** A raw GET: the bytes as sent, undecoded, and the headers. */
function get(server: Server, urlPath: string, headers: Record<string, string> = {}, method = 'GET') {
  const { port } = server.address() as AddressInfo;
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: urlPath, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('serveStatic', () => {
  let outer: string;
  let root: string;
  let server: Server;

  beforeAll(async () => {
    outer = await mkdtemp(path.join(tmpdir(), 'ss-static-'));
    root = path.join(outer, 'site');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    const script = path.join(root, 'assets', 'app-1234.js');
    await writeFile(script, SCRIPT);
    await writeFile(`${script}.br`, brotliCompressSync(SCRIPT));
    await writeFile(`${script}.gz`, gzipSync(SCRIPT));
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>x</title>');
    await writeFile(path.join(outer, 'secret.txt'), 'not served');
    const app = new Koa();
    app.use(serveStatic(root));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(outer, { recursive: true, force: true });
  });

  it('sends the build’s brotli file to a client that takes brotli, as it is', async () => {
    const res = await get(server, '/assets/app-1234.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.headers['cache-control']).toContain('immutable');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(SCRIPT.length / 5);
    expect(brotliDecompressSync(res.body).toString()).toBe(SCRIPT);
  });

  it('falls back to gzip, then to the file itself', async () => {
    const gz = await get(server, '/assets/app-1234.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    const plain = await get(server, '/assets/app-1234.js', { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
    // A file without precompressed siblings is sent as it is.
    const html = await get(server, '/', { 'accept-encoding': 'br' });
    expect(html.headers['content-encoding']).toBeUndefined();
    expect(html.headers['cache-control']).toBe('no-cache');
    expect(html.body.toString()).toContain('<title>');
  });

  it('answers HEAD with the length GET would send', async () => {
    const res = await get(server, '/assets/app-1234.js', { 'accept-encoding': 'br' }, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect(Number(res.headers['content-length'])).toBe(brotliCompressSync(SCRIPT).length);
  });

  it('serves nothing outside its root', async () => {
    expect((await get(server, '/../secret.txt')).status).toBe(404);
    expect((await get(server, '/%2e%2e/secret.txt')).status).toBe(404);
  });
});
