/**
 * Builds the chart page (web/) into <repo>/dist/web, which the Koa server serves at `/`.
 * Run from the repo root: `npm run build:web` (= `vite build --config web/vite.config.ts`).
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webDir = dirname(fileURLToPath(import.meta.url));

/** Where `npm run dev` serves the API (PORT defaults to 4000); used only by the `vite` dev server. */
const devApi = 'http://127.0.0.1:4000';

export default defineConfig({
  root: webDir,
  base: '/',
  publicDir: resolve(webDir, 'public'),
  build: {
    outDir: resolve(webDir, '../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // ApexCharts alone is ~500 kB minified; it is one chart library on one page, not a warning sign.
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/graphql': devApi,
      '/logos': devApi,
    },
  },
});
