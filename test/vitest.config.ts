import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import PlainSummaryReporter from './helpers/plain-summary-reporter.js';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/helpers/build-dist.ts'],
    reporters: ['default', new PlainSummaryReporter()],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
