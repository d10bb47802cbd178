/**
 * The run's time, kept apart so that a test can poll and wait on a clock of its own instead of
 * sleeping through the intervals.
 */

/** Time for the polling and the webhook wait; tests pass their own (CliIo may carry it). */
export interface ConformanceClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: ConformanceClock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Between two order-status calls of one order: bounded, whatever the timeout. */
export const POLL_INTERVAL_MS = 2000;
