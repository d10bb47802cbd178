import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

/**
 * Ends the run with the language-neutral line `N passed, N failed` that CI reads, so that it
 * says "0 failed" only when vitest exits 0.
 */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(
    modules: readonly TestModule[],
    unhandledErrors: readonly SerializedError[] = [],
    reason: TestRunEndReason = 'passed',
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that fails to load, or whose beforeAll/afterAll throws, fails without a failed test
      // (its tests are skipped): it must still count as a failure.
      const failedTests = [...module.children.allTests()].some((t) => t.result().state === 'failed');
      if (module.state() === 'failed' && !failedTests) failed++;
    }
    // A run that failed outside any test (global setup, an unhandled rejection, no file matched)
    // is still a failed run.
    if (failed === 0 && (reason !== 'passed' || unhandledErrors.length > 0)) failed = 1;
    const errors = unhandledErrors.length ? `, ${unhandledErrors.length} unhandled errors` : '';
    process.stdout.write(
      `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}${errors}\n`,
    );
  }
}
