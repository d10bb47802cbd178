import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import PlainSummaryReporter from './helpers/plain-summary-reporter.js';

/**
 * `npm run test:browser`: the console in a real Chromium (Debian's `chromium`, driven by
 * playwright-core). Apart from `npm test`, which needs no browser.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/browser/**/*.test.ts'],
    reporters: ['default', new PlainSummaryReporter()],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { TEST_DATABASE: 'sqlite' },
  },
});
