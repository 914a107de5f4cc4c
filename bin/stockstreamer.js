#!/usr/bin/env node
// The package's bin: the compiled CLI (`npm run build` writes dist/app). Production, `npm start`, `npx
// stockstreamer` and the systemd units all run this JavaScript; only `npm run dev` and the tests run the
// TypeScript sources, through tsx.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/app/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'stockstreamer: the app is not built (no dist/app/src/cli.js). Run `npm run build` in the checkout first, or `npm run dev` to run the sources.\n',
  );
  process.exit(1);
}
// Stack traces in logs name the TypeScript files and lines (tsc writes the source maps beside the code).
process.setSourceMapsEnabled(true);
await import(cli.href);
