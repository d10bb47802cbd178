import { formatDuration } from '../config/env.js';
import { formatIdr } from '../config/money.js';
import type { Store } from '../db/store.js';
import type { OldestOpen, TransactionCounts } from '../db/types.js';
import type { Logger } from '../log.js';
import type { ReportLine } from '../reports/sales.js';
import type { Delivery, PostedMessage } from './alerts.js';
import type { BalanceReading } from './balance-watch.js';
import { waitedFor } from './stuck-watch.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** What the summary of one day says. */
export interface SummaryFacts {
  /** The day summarised, YYYY-MM-DD at the offset. */
  day: string;
  utcOffsetMinutes: number;
  /** That day's sales: the sales report's total line. */
  sales: ReportLine;
  /** The last supplier balance read, or null when none was. */
  balance: BalanceReading | null;
  /** Now: flagged and UNKNOWN counts. */
  counts: TransactionCounts;
  /** Now: when the longest-waiting open purchase of each state started waiting. */
  oldestOpen: OldestOpen;
  /** When the summary is written (epoch ms). */
  now: number;
  /** RESOLVE_DEADLINE: an open purchase topped up longer ago than this is past its deadline. */
  resolveDeadlineMs: number;
}

/** `+07:00`, `-03:30`, `+00:00`: an offset from UTC in minutes, as REPORT_UTC_OFFSET writes it. */
export function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** `2026-03-15 08:55`: an instant at the offset. */
export function localTime(at: number, utcOffsetMinutes: number): string {
  return new Date(at + utcOffsetMinutes * MINUTE_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * The day whose summary is due at `now`: yesterday (at the offset), once the local hour has
 * reached `hour`; null before it. Never an older day: a day not sent on the next day is not sent.
 */
export function dueDay(now: number, hour: number, utcOffsetMinutes: number): string | null {
  const local = now + utcOffsetMinutes * MINUTE_MS;
  const today = Math.floor(local / DAY_MS);
  if (Math.floor((local - today * DAY_MS) / HOUR_MS) < hour) return null;
  return new Date((today - 1) * DAY_MS).toISOString().slice(0, 10);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The open purchase topped up longest ago (QUEUED, ORDERING, PROCESSING, UNKNOWN), if any. */
function oldestToppedUp(oldest: OldestOpen): { state: string; since: number } | null {
  let found: { state: string; since: number } | null = null;
  for (const state of ['QUEUED', 'ORDERING', 'PROCESSING', 'UNKNOWN'] as const) {
    const since = oldest[state];
    if (since !== null && (found === null || since < found.since)) found = { state, since };
  }
  return found;
}

/**
 * The summary's text: a few short lines, plain, for Slack or Discord. The sales are the day's;
 * the balance is the last read; the flagged, UNKNOWN and past-deadline lines are as of now.
 */
export function summaryText(f: SummaryFacts): string {
  const s = f.sales;
  const unpriced =
    s.unpriced > 0
      ? ` (${plural(s.unpriced, 'delivered sale')} without a recorded revenue or cost left out)`
      : '';
  const balance = f.balance
    ? `${formatIdr(f.balance.idr)}, read ${localTime(f.balance.at, f.utcOffsetMinutes)}`
    : 'not read';
  const oldest = oldestToppedUp(f.oldestOpen);
  const waited = oldest ? f.now - oldest.since : 0;
  const pastDeadline =
    oldest && waited >= f.resolveDeadlineMs
      ? `the oldest open purchase is ${oldest.state} ${waitedFor(waited)} after its top-up (RESOLVE_DEADLINE ${formatDuration(f.resolveDeadlineMs)})`
      : 'none';
  return [
    `[gateway] daily summary of ${f.day} (UTC${offsetText(f.utcOffsetMinutes)})`,
    `Sales: ${s.sold} sold, ${s.delivered} delivered, ${s.failed} failed, ${s.refunded} refunded, ${s.open} still open`,
    `Revenue ${formatIdr(s.revenueIdr)}, cost ${formatIdr(s.costIdr)}, profit ${formatIdr(s.profitIdr)}${unpriced}`,
    `Supplier balance: ${balance}`,
    `Now: ${f.counts.attention} flagged, ${f.counts.byState.UNKNOWN} UNKNOWN; past deadline: ${pastDeadline}`,
  ].join('\n');
}

/** How one check ended. */
export type SummaryCheck =
  /** Before the hour: nothing is due. */
  | 'not-yet'
  /** Delivered by this instance (or, without a webhook, logged), and recorded. */
  | 'sent'
  /** Sent already, or another instance is sending it now. */
  | 'taken'
  /** Not sent: the facts could not be read, or the delivery failed. Tried again next check. */
  | 'failed';

export interface DailySummaryDeps {
  store: Pick<
    Store,
    | 'claimDailySummary'
    | 'markDailySummarySent'
    | 'releaseDailySummary'
    | 'getDailySummary'
    | 'countTransactions'
    | 'oldestOpen'
  >;
  /** The sales of one day (YYYY-MM-DD at the offset): the sales report's total. */
  sales: (day: string) => Promise<ReportLine>;
  /** The last supplier balance read, or null. */
  balance: () => Promise<BalanceReading | null>;
  /** Delivers the text (the Alerter's `post`); null: ALERT_WEBHOOK_URL is unset, it is only logged. */
  post: ((message: PostedMessage) => Promise<Delivery>) | null;
  /** DAILY_SUMMARY_HOUR, at REPORT_UTC_OFFSET. */
  hour: number;
  utcOffsetMinutes: number;
  resolveDeadlineMs: number;
  /** This process, as it claims the day (unique per process). */
  holder: string;
  /** How long a claim lasts, in database time: longer than the longest delivery. */
  claimMs: number;
  /** How often it checks (a minute). */
  intervalMs: number;
  now: () => number;
  logger: Logger;
  /** Told of each send and each failed one (for the metrics). */
  onResult?: (result: 'sent' | 'failed') => void;
}

export interface DailySummary {
  /** One check: sends the summary due now, if not sent yet and nobody else is sending it. */
  check(): Promise<SummaryCheck>;
  stop(): void;
  /** Resolves once a check under way has ended. */
  idle(): Promise<void>;
}

/**
 * Sends the summary of day D once, on day D+1 from DAILY_SUMMARY_HOUR on, whatever the number
 * of gateways. Each checks every `intervalMs`; the day is claimed in the database (a claim that
 * runs out, so that a sender that died is replaced), posted, and recorded as sent. A failed post
 * gives the claim up: the next check, on any instance, tries again, until the day is over.
 *
 * Once per day: a claim is taken only while the day is not recorded as sent and no other claim
 * on it is running; a claim lasts longer than the longest delivery. A gateway that dies after
 * the webhook took the message and before the record is written would have it sent again by
 * another once its claim ran out: that window is one database write long.
 */
export function startDailySummary(deps: DailySummaryDeps): DailySummary {
  const { store, logger } = deps;
  // The last day seen recorded as sent: no more reads for it. And a day delivered here whose
  // record failed: recorded first at the next check.
  let done: string | null = null;
  let unrecorded: string | null = null;
  let running: Promise<SummaryCheck> | null = null;
  let stopped = false;

  /** Records `day` as sent; false when the write failed (it is tried again at the next check). */
  const record = async (day: string): Promise<boolean> => {
    let first: boolean;
    try {
      first = await store.markDailySummarySent(day, deps.holder, deps.now());
    } catch (err) {
      unrecorded = day;
      logger.error(
        { err, day },
        'daily summary sent but not recorded as sent; recorded again at the next check',
      );
      return false;
    }
    unrecorded = null;
    done = day;
    // Only when a delivery outlasted its claim, and another instance took the day over.
    if (!first)
      logger.warn({ day }, 'daily summary sent, but another instance had recorded it sent: sent twice');
    return true;
  };

  const run = async (): Promise<SummaryCheck> => {
    const now = deps.now();
    const day = dueDay(now, deps.hour, deps.utcOffsetMinutes);
    if (day === null) return 'not-yet';
    if (done === day) return 'taken';
    if (unrecorded !== null) {
      if (unrecorded === day) return (await record(day)) ? 'sent' : 'failed';
      unrecorded = null;
    }
    if ((await store.getDailySummary(day))?.sentAt != null) {
      done = day;
      return 'taken';
    }
    // Read before the claim: the claim then covers the delivery alone.
    let text: string;
    try {
      const [sales, balance, counts, oldestOpen] = await Promise.all([
        deps.sales(day),
        deps.balance(),
        store.countTransactions(),
        store.oldestOpen(),
      ]);
      text = summaryText({
        day,
        utcOffsetMinutes: deps.utcOffsetMinutes,
        sales,
        balance,
        counts,
        oldestOpen,
        now,
        resolveDeadlineMs: deps.resolveDeadlineMs,
      });
    } catch (err) {
      logger.error(
        { err, day },
        'daily summary not sent: its figures could not be read; tried again at the next check',
      );
      deps.onResult?.('failed');
      return 'failed';
    }
    if (!(await store.claimDailySummary(day, deps.holder, deps.claimMs))) return 'taken';
    if (deps.post === null) {
      logger.info({ day, summary: text }, 'daily summary (ALERT_WEBHOOK_URL is unset: logged only)');
    } else {
      const delivery = await deps.post({ kind: 'daily-summary', key: day, text });
      if (!delivery.ok) {
        logger.error(
          { day, reason: delivery.reason },
          `daily summary not sent (${delivery.reason}); tried again at the next check`,
        );
        deps.onResult?.('failed');
        await store.releaseDailySummary(day, deps.holder, delivery.reason);
        return 'failed';
      }
      logger.info({ day, summary: text }, 'daily summary sent');
    }
    deps.onResult?.('sent');
    await record(day);
    return 'sent';
  };

  const check = (): Promise<SummaryCheck> => {
    running ??= run()
      .catch((err: unknown): SummaryCheck => {
        logger.warn({ err }, 'daily summary check failed; it runs again');
        return 'failed';
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  const at = `${String(deps.hour).padStart(2, '0')}:00 UTC${offsetText(deps.utcOffsetMinutes)}`;
  logger.info(
    { dailySummaryHour: deps.hour, reportUtcOffsetMinutes: deps.utcOffsetMinutes },
    deps.post
      ? `daily summary: the day before, sent to ALERT_WEBHOOK_URL from ${at} on, once per day`
      : `daily summary: the day before, logged from ${at} on, once per day (ALERT_WEBHOOK_URL is unset)`,
  );
  const timer = setInterval(() => {
    if (!stopped) void check();
  }, deps.intervalMs);
  timer.unref();
  // A gateway started after the hour sends the day's summary now, not a minute later.
  void check();
  return {
    check,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
    idle: async () => {
      await running;
    },
  };
}
