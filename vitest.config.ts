import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql 16 ships CJS (main) and ESM (module) without an exports map: Node loads the CJS copy for Yoga,
// while Vite would pick the ESM one for our sources, and two copies break `instanceof GraphQLError`.
const graphqlCjs = createRequire(import.meta.url).resolve('graphql');
const resolve = { alias: [{ find: /^graphql$/, replacement: graphqlCjs }] };

// Three tiers (see ARCHITECTURE.md): unit specs beside pure code, integration tests against the real Redis
// and Postgres, and browser tests in Chromium; plus the ops/ checks. `npm test` runs all four.
export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: [
            'src/**/*.spec.ts',
            'jobs/**/*.spec.ts',
            'graphql/**/*.spec.ts',
            'web/src/**/*.spec.ts',
            // The check that web/src/generated/graphql.ts is current (web/codegen.ts).
            'web/*.spec.ts',
            // The bench harness's pure parts (the table merge); the benches themselves are `npm run bench`.
            'test/bench/**/*.spec.ts',
          ],
          environment: 'node',
        },
      },
      {
        resolve,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        resolve,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // One browser at a time: two cores are shared by the app, Postgres, Redis and Chromium.
          fileParallelism: false,
          // A poll waits for the page to reach a state, and fails only when it never does. The default 1 s
          // is a loaded machine's draw or two: the gaps test's hour of finer history, merged and drawn,
          // took longer than that at a load of 10 on two cores, while nothing was wrong.
          expect: { poll: { timeout: 10_000 } },
        },
      },
      {
        // ops/: the CDK stack synthesized and asserted in-process, shellcheck and systemd-analyze on the
        // scripts and units. The install on a Debian 13 root is `npm run test:ops` (minutes, needs root).
        test: {
          name: 'ops',
          include: ['test/ops/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
