import { defineConfig } from 'vitest/config';

// Three tiers (see ARCHITECTURE.md): unit specs beside pure code, integration tests against the real Redis
// and Postgres, and browser tests in Chromium. `npm test` runs all three.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.spec.ts', 'jobs/**/*.spec.ts', 'graphql/**/*.spec.ts', 'web/src/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // One browser at a time: two cores are shared by the app, Postgres, Redis and Chromium.
          fileParallelism: false,
        },
      },
    ],
  },
});
