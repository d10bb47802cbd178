import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import PlainSummaryReporter from './helpers/plain-summary-reporter.js';

/**
 * Tests of the rules, the signatures, the config and the SQLite adapter's own internals run
 * once; everything that touches storage runs once per adapter (`TEST_DATABASE`), the same files.
 */
const ADAPTER_FREE = [
  'test/architecture.test.ts',
  'test/sim-dialects.test.ts',
  'test/readings-settings.test.ts',
  'test/conformance-judge.test.ts',
  'test/env.test.ts',
  'test/move-digest.test.ts',
  'test/env-example.test.ts',
  'test/start-command.test.ts',
  'test/request-log.test.ts',
  'test/describe-store.test.ts',
  'test/listen.test.ts',
  'test/kept-answer-shortcut.test.ts',
  'test/form-data.test.ts',
  'test/limit-key.test.ts',
  'test/limiter.test.ts',
  'test/shared-limiter.test.ts',
  'test/mapping.test.ts',
  'test/profit.test.ts',
  'test/queue-guard.test.ts',
  'test/mapping-check.test.ts',
  'test/choose-variation.test.ts',
  'test/mapping-backups.test.ts',
  'test/cli-table.test.ts',
  'test/mapping-store.test.ts',
  'test/mitra-client.test.ts',
  'test/mitra-outcome.test.ts',
  'test/mitra-signature.test.ts',
  'test/mitra-sim.test.ts',
  'test/webhook-cap.test.ts',
  'test/razer-signature.test.ts',
  'test/states.test.ts',
  'test/metrics.test.ts',
  'test/alerts.test.ts',
  'test/balance-watch.test.ts',
  'test/operator-rules.test.ts',
  'test/console-rules.test.ts',
  'test/reconciler-schedule.test.ts',
  // Proof tools' pure parts and the fuzzer (in-process, SQLite): bench/.
  'test/fuzz.test.ts',
  'test/campaign-rules.test.ts',
  'test/soak-rules.test.ts',
  // SQLite's own: prepared statements, a file that fills up.
  'test/storage-internals.test.ts',
  'test/storage-faults.test.ts',
  'test/group-commit.test.ts',
  'test/query-answers.test.ts',
  'test/log-buffer.test.ts',
];

/** What needs tools npm test never needs: run by npm run test:tools (test/vitest.tools.config.ts). */
const TOOLS_TESTS = ['test/browser/**', 'test/deploy/**', 'test/monitoring/**'];

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    reporters: ['default', new PlainSummaryReporter()],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          // Several gateway processes on one database, and a move from SQLite into PostgreSQL:
          // PostgreSQL's case only. The browser, deploy and monitoring tests need Chromium, nginx,
          // systemd and Prometheus: npm run test:tools.
          exclude: ['test/multi-instance.test.ts', 'test/move-store.test.ts', ...TOOLS_TESTS],
          globalSetup: ['test/helpers/build-dist.ts'],
          env: { TEST_DATABASE: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.test.ts'],
          exclude: [...ADAPTER_FREE, ...TOOLS_TESTS],
          globalSetup: ['test/helpers/build-dist.ts', 'test/helpers/postgres-setup.ts'],
          env: { TEST_DATABASE: 'postgres' },
        },
      },
    ],
  },
});
