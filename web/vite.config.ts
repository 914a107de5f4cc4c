/**
 * Builds the chart page (web/) into <repo>/dist/web, which the Koa server serves at `/`.
 * Run from the repo root: `npm run build:web` (= `vite build --config web/vite.config.ts`).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { defineConfig, type Plugin, type Rollup } from 'vite';

type OutputChunk = Rollup.OutputChunk;

const webDir = dirname(fileURLToPath(import.meta.url));

/** Where `npm run dev` serves the API (PORT defaults to 4000); used only by the `vite` dev server. */
const devApi = 'http://127.0.0.1:4000';

/** Text assets worth compressing; images other than SVG are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.webmanifest']);

/**
 * The entry (boot.ts) sends the first requests for data and only then imports the page's code (main.ts),
 * which imports the chart library: the browser would find each only when the one before it runs.
 * modulepreload links for both and everything they import (the library's core is a chunk of its own,
 * shared with the candle chart's) let them download and compile alongside the entry and the data.
 */
function preloadPageCode(): Plugin {
  return {
    name: 'stockstreamer:preload-page-code',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const chunks = new Map<string, OutputChunk>();
        for (const output of Object.values(context.bundle ?? {}))
          if (output.type === 'chunk') chunks.set(output.fileName, output);
        const files = new Set<string>();
        const add = (chunk: OutputChunk) => {
          // the entry is the script index.html loads itself
          if (chunk.isEntry || files.has(chunk.fileName)) return;
          files.add(chunk.fileName);
          for (const imported of chunk.imports) {
            const next = chunks.get(imported);
            if (next) add(next);
          }
        };
        for (const name of ['main', 'apexcharts-bundle']) {
          const chunk = [...chunks.values()].find((c) => c.name === name && !c.isEntry);
          if (!chunk) throw new Error(`the ${name} chunk is missing from the build`);
          add(chunk);
        }
        return [...files].map((file) => ({
          tag: 'link',
          attrs: { rel: 'modulepreload', href: `/${file}` },
          injectTo: 'head' as const,
        }));
      },
    },
  };
}

/**
 * GraphiQL's code as files of the build under /graphiql/, instead of the stock page that inlines all 9 MB
 * of it into the HTML of every visit: the browser caches them, they are compressed once (below), the API
 * process never holds them in its heap (~30 MB), and the page runs under the same CSP as ours, with no
 * inline script. graphql/graphiql-page.ts writes the HTML; web/public/graphiql/ has the two small scripts
 * that configure and start it.
 */
function graphiqlAssets(): Plugin {
  return {
    name: 'stockstreamer:graphiql-assets',
    apply: 'build',
    async generateBundle() {
      // The package exports only its renderer; its bundle sits beside the entry point.
      const entry = createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql');
      const bundle = (await import(pathToFileURL(join(dirname(entry), 'graphiql.js')).href)) as Record<
        'js' | 'css' | 'favicon' | 'editorWorkerService' | 'jsonWorker' | 'graphqlWorker',
        string
      >;
      const favicon = /^data:image\/x-icon;base64,(.+)$/.exec(bundle.favicon);
      if (!favicon) throw new Error('GraphiQL favicon: wanted a base64 data URI');
      const files: Record<string, string | Buffer> = {
        'graphiql/graphiql.js': bundle.js,
        'graphiql/graphiql.css': bundle.css,
        'graphiql/favicon.ico': Buffer.from(favicon[1]!, 'base64'),
        // Monaco asks for a worker per label (web/public/graphiql/environment.js).
        'graphiql/worker-editorWorkerService.js': bundle.editorWorkerService,
        'graphiql/worker-json.js': bundle.jsonWorker,
        'graphiql/worker-graphql.js': bundle.graphqlWorker,
      };
      for (const [fileName, source] of Object.entries(files))
        this.emitFile({ type: 'asset', fileName, source });
    },
  };
}

/**
 * Writes a .br and a .gz beside every text file of the build, at high settings, once: the server
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
                // Brotli's best takes ~10 s on GraphiQL's 5 MB and saves ~9 % over quality 9 (0.6 s).
                [constants.BROTLI_PARAM_QUALITY]:
                  content.length > 1_000_000 ? 9 : constants.BROTLI_MAX_QUALITY,
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
  plugins: [preloadPageCode(), graphiqlAssets(), precompress(outDir)],
  server: {
    proxy: {
      '/graphql': devApi,
      '/logos': devApi,
    },
  },
});
