import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import PlainSummaryReporter from './helpers/plain-summary-reporter.js';

/**
 * `npm run test:tools`: the tests that need tools `npm test` never needs. test/browser/: the
 * console in a real Chromium (Debian's `chromium`, driven by playwright-core). test/deploy/: the
 * shipped config/deploy/ files with Debian's `nginx`, `systemd-analyze` and `psql`, and the
 * documented topology run for real (a balancer, two machines' nginx, two built gateways on one
 * PostgreSQL), which is why dist/ is built and a throwaway PostgreSQL started first.
 * test/monitoring/: the shipped Prometheus rules under `promtool`, and the dashboard's and rules'
 * queries against a real Prometheus scraping a gateway (Debian's `prometheus`).
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/browser/**/*.test.ts', 'test/deploy/**/*.test.ts', 'test/monitoring/**/*.test.ts'],
    reporters: ['default', new PlainSummaryReporter()],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/build-dist.ts', 'test/helpers/postgres-setup.ts'],
    env: { TEST_DATABASE: 'sqlite' },
  },
});
