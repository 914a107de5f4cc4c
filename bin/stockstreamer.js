#!/usr/bin/env node
// The package's bin: run the TypeScript CLI through tsx's loader, so the same
// sources serve `npm start`, `npx stockstreamer` and the systemd units.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
