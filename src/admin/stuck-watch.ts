import { formatDuration } from '../config/env.js';
import type { Store } from '../db/store.js';
import type { TopUpCursor } from '../db/types.js';
import type { Logger } from '../log.js';
import type { Alerter } from './alerts.js';

/** The deadline every version before topped_up_at gave a purchase at its top-up. */
const PREVIOUS_DEADLINE_MS = 24 * 60 * 60 * 1000;

/** Stuck purchases alerted one by one in one run, at most; more are told of in a summary line. */
export const STUCK_ALERTS_PER_RUN = 20;
/** The summary counts the rest up to this many (a backlog is not counted row by row for ever). */
export const STUCK_COUNT_UP_TO = 10_000;

type Turn = (job: string, ttlMs: number) => Promise<boolean>;

export interface StuckWatchDeps {
  store: Pick<Store, 'listOpenByTopUp' | 'fillTopUpTimes'>;
  alerter: Pick<Alerter, 'raise'>;
  /** One instance at a time (a job lease on PostgreSQL). */
  turn: Turn;
  now: () => number;
  logger: Logger;
  /** STUCK_AFTER: an open purchase topped up longer ago than this is stuck. */
  stuckAfterMs: number;
  /** RESOLVE_DEADLINE: older purchases are flagged at their deadline, with an alert of their own. */
  resolveDeadlineMs: number;
  intervalMs: number;
  maxAlertsPerRun?: number;
}

export interface StuckWatch {
  /** One run: alerts the next stuck purchases, oldest top-up first. */
  check(): Promise<void>;
  stop(): void;
  /** Resolves once a run under way has ended. */
  idle(): Promise<void>;
}

/** `17 min`, `3 h 05 min`: how long a purchase has waited, for a person. */
export function waitedFor(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * Alerts once per purchase still open (QUEUED, ORDERING, PROCESSING, UNKNOWN) STUCK_AFTER after
 * its top-up, without flagging it or changing it: the reconciler keeps checking it, and flags it
 * at its deadline if it stays open. Each run reads one bounded page of purchases after the last
 * one told of, in top-up order, so a backlog is walked at most `maxAlertsPerRun` a run and never
 * loaded whole. The place reached is this process's: after a restart, or when another instance
 * takes the watch over, purchases stuck since less than RESOLVE_DEADLINE are told of again.
 */
export function watchStuckPurchases(deps: StuckWatchDeps): StuckWatch {
  const max = deps.maxAlertsPerRun ?? STUCK_ALERTS_PER_RUN;
  let cursor: TopUpCursor | null = null;
  let running: Promise<void> | null = null;

  const run = async () => {
    if (!(await deps.turn('stuck-watch', deps.intervalMs * 2))) return;
    // Purchases topped up by a previous version (a rolling upgrade, a roll back) carry no top-up
    // time: theirs is their deadline less the 24 h that version always gave.
    const filled = await deps.store.fillTopUpTimes(PREVIOUS_DEADLINE_MS);
    if (filled > 0)
      deps.logger.info({ filled }, 'top-up times given to purchases a previous version topped up');
    const now = deps.now();
    // Purchases past the deadline are flagged (the `flagged` alert): no need to walk them.
    const floor = now - deps.resolveDeadlineMs;
    const after =
      cursor && cursor.toppedUpAt >= floor ? cursor : { toppedUpAt: floor, transactionNumber: '' };
    const page = await deps.store.listOpenByTopUp({
      after,
      through: now - deps.stuckAfterMs,
      limit: max,
      countUpTo: STUCK_COUNT_UP_TO,
    });
    let alerted = 0;
    for (const p of page.items) {
      cursor = { toppedUpAt: p.toppedUpAt, transactionNumber: p.transactionNumber };
      // Flagged already (an anomaly, an earlier deadline): an operator has been called.
      if (p.attention) continue;
      const n = p.transactionNumber;
      const raised = deps.alerter.raise({
        kind: 'stuck',
        key: n,
        transactionNumber: n,
        message:
          `still ${p.state} ${waitedFor(now - p.toppedUpAt)} after its top-up (STUCK_AFTER ${formatDuration(deps.stuckAfterMs)}). ` +
          'Not flagged: the gateway keeps checking it and flags it at its deadline if it stays open. ' +
          `Look at /console/transactions/${encodeURIComponent(n)} or run: gateway tx show ${n}`,
      });
      if (raised) alerted++;
    }
    if (page.more > 0) {
      const more = page.more >= STUCK_COUNT_UP_TO ? `${STUCK_COUNT_UP_TO} or more` : String(page.more);
      deps.logger.warn(
        { alerted, more: page.more, perRun: max, stuckAfter: formatDuration(deps.stuckAfterMs) },
        `${more} more purchases are stuck past STUCK_AFTER: they are alerted ${max} a run, longest waiting first (gateway_oldest_open_seconds shows the oldest; the console lists them)`,
      );
    }
  };

  const check = () => {
    running ??= run()
      .catch((err: unknown) =>
        deps.logger.warn({ err }, 'stuck purchases could not be read; the watch runs again'),
      )
      .finally(() => {
        running = null;
      });
    return running;
  };

  const timer = setInterval(() => void check(), deps.intervalMs);
  timer.unref();
  return {
    check,
    stop: () => clearInterval(timer),
    idle: async () => {
      await running;
    },
  };
}
