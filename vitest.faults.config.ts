import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Same graphql alias as vitest.config.ts (one copy of graphql for Yoga and our sources).
const graphqlCjs = createRequire(import.meta.url).resolve('graphql');

// The fault suite (`npm run test:faults`): real app processes against private Redis and PostgreSQL
// servers that each case stops, empties and restarts. Not part of `npm test`: it takes minutes, and its
// cases run one at a time so that their timings are not the two cores' contention.
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] },
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
