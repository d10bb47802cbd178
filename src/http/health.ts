import { Hono } from 'hono';
import type { GatewayEnv } from './env.js';

export interface ReadinessDeps {
  /** Where the detail of a failed check goes: the answer itself says no more than what failed. */
  onFailure?: (check: string, err: unknown) => void;
  /** Throws when the database does not take a write now. */
  storageWritable: () => Promise<void>;
  /** Set once this process has applied (or found applied) every migration. */
  migrated: () => boolean;
  /** Whether a supplier catalogue has ever been stored: without one every init is refused. */
  cataloguePresent: () => Promise<boolean>;
  /**
   * Figures for the log line of the answers, never in the answer (it says only what failed): the
   * supplier guards' committed balance and expected wait. Not a check: failing to read them
   * changes nothing of the answer.
   */
  details?: () => Promise<Record<string, unknown>>;
  /**
   * What of the details is a verdict worth a line at once when it changes (the queue guard over
   * or under its limit), as readiness and the checks are.
   */
  verdict?: (details: Record<string, unknown>) => string;
  /**
   * Told an answer's status and checks, with the details (null when they could not be read), for
   * the log: load balancers probe every few seconds, so not every answer. Told the first, then
   * whenever readiness, a check or the verdict changes, and otherwise at most once per `logEveryMs`.
   */
  onAnswer?: (answer: {
    status: string;
    checks: Record<string, string>;
    details: Record<string, unknown> | null;
  }) => void;
  /** The clock of `logEveryMs` (default Date.now). */
  now?: () => number;
  /** The longest an unchanged answer goes untold (default a minute). */
  logEveryMs?: number;
}

/**
 * Whether an answer is told (see ReadinessDeps.onAnswer): the first, any that differs in what
 * `key` holds from the last told, and the others once `everyMs` has passed since (a clock that
 * stepped back tells at once).
 */
export function answerLog(now: () => number, everyMs: number): (key: string) => boolean {
  let last: { key: string; at: number } | null = null;
  return (key) => {
    const at = now();
    if (last && last.key === key && at >= last.at && at - last.at < everyMs) return false;
    last = { key, at };
    return true;
  };
}

/**
 * The checks of /readyz, each `ok` or what is wrong; never throws. One place for the answer and
 * for the `gateway_ready` gauge.
 */
export async function readinessChecks(
  deps: Pick<ReadinessDeps, 'storageWritable' | 'migrated' | 'cataloguePresent' | 'onFailure'>,
): Promise<Record<string, string>> {
  const checks: Record<string, string> = {};
  try {
    await deps.storageWritable();
    checks.storage = 'ok';
  } catch (err) {
    checks.storage = 'not writable';
    deps.onFailure?.('storage', err);
  }
  checks.migrations = deps.migrated() ? 'ok' : 'not applied';
  try {
    checks.catalogue = (await deps.cataloguePresent()) ? 'ok' : 'never fetched';
  } catch (err) {
    checks.catalogue = 'unreadable';
    deps.onFailure?.('catalogue', err);
  }
  return checks;
}

export const isReady = (checks: Record<string, string>): boolean =>
  Object.values(checks).every((v) => v === 'ok');

/**
 * For orchestrators: /livez answers while the process serves at all; /readyz only when it can
 * take purchases. Razer's own /health is left as Razer's.
 */
export function healthRoutes(deps: ReadinessDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const due = answerLog(deps.now ?? Date.now, deps.logEveryMs ?? 60_000);
  app.get('/livez', (c) => c.json({ status: 'live' }));
  app.get('/readyz', async (c) => {
    const checks = await readinessChecks(deps);
    const ready = isReady(checks);
    const status = ready ? 'ready' : 'not ready';
    if (deps.onAnswer) {
      let details: Record<string, unknown> | null = null;
      try {
        details = (await deps.details?.()) ?? null;
      } catch (err) {
        deps.onFailure?.('details', err);
      }
      let verdict: string | null = null;
      try {
        verdict = details && deps.verdict ? deps.verdict(details) : null;
      } catch (err) {
        deps.onFailure?.('details', err);
      }
      if (due(JSON.stringify([status, checks, verdict]))) deps.onAnswer({ status, checks, details });
    }
    return c.json({ status, checks }, ready ? 200 : 503);
  });
  return app;
}
