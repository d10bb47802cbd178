import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** Ends the run with the language-neutral line `N passed, N failed` that CI reads. */
export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], unhandledErrors: readonly SerializedError[] = []): void {
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
    // An error no test caught (an unhandled rejection) fails the run: vitest exits 1 for it.
    failed += unhandledErrors.length;
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
