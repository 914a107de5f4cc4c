/**
 * Builds the chart page (web/) into <repo>/dist/web, which the Koa server serves at `/`.
 * Run from the repo root: `npm run build:web` (= `vite build --config web/vite.config.ts`).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const webDir = dirname(fileURLToPath(import.meta.url));

/** Where `npm run dev` serves the API (PORT defaults to 4000); used only by the `vite` dev server. */
const devApi = 'http://127.0.0.1:4000';

/** Text assets worth compressing; images other than SVG are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.webmanifest']);

/**
 * The chart library is loaded with a dynamic import (so the page's own code runs first), which the browser
 * would only discover once that code runs. A modulepreload link lets it download and compile alongside.
 */
function preloadChartLibrary(): Plugin {
  return {
    name: 'stockstreamer:preload-chart-library',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const chunk = Object.values(context.bundle ?? {}).find(
          (output) => output.type === 'chunk' && output.name === 'apexcharts-bundle',
        );
        if (!chunk) throw new Error('the apexcharts-bundle chunk is missing from the build');
        return [
          { tag: 'link', attrs: { rel: 'modulepreload', href: `/${chunk.fileName}` }, injectTo: 'head' },
        ];
      },
    },
  };
}

/**
 * Writes a .br and a .gz beside every text file of the build, at the highest settings, once: the server
 * sends those as they are (src/server/static-files.ts) instead of compressing 600 kB of JavaScript again
 * for every visitor.
 */
function precompress(outDir: string): Plugin {
  const brotli = promisify(brotliCompress);
  const gzipped = promisify(gzip);
  return {
    name: 'stockstreamer:precompress',
    apply: 'build',
    async closeBundle() {
      const files = (await readdir(outDir, { recursive: true })).filter((f) => COMPRESSIBLE.has(extname(f)));
      await Promise.all(
        files.map(async (file) => {
          const path = join(outDir, file);
          const content = await readFile(path);
          const [br, gz] = await Promise.all([
            brotli(content, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
              },
            }),
            gzipped(content, { level: constants.Z_BEST_COMPRESSION }),
          ]);
          await Promise.all([writeFile(`${path}.br`, br), writeFile(`${path}.gz`, gz)]);
        }),
      );
    },
  };
}

const outDir = resolve(webDir, '../dist/web');

export default defineConfig({
  root: webDir,
  base: '/',
  publicDir: resolve(webDir, 'public'),
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // ApexCharts alone is ~500 kB minified; it is one chart library on one page, not a warning sign.
    chunkSizeWarningLimit: 1024,
  },
  plugins: [preloadChartLibrary(), precompress(outDir)],
  server: {
    proxy: {
      '/graphql': devApi,
      '/logos': devApi,
    },
  },
});
