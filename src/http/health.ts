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
   * Figures for the log line of each answer, never in the answer (it says only what failed): the
   * supplier guards' committed balance and expected wait. Not a check: failing to read them
   * changes nothing of the answer.
   */
  details?: () => Promise<Record<string, unknown>>;
  /** Told each answer's status and checks, with the details (null when they could not be read). */
  onAnswer?: (answer: {
    status: string;
    checks: Record<string, string>;
    details: Record<string, unknown> | null;
  }) => void;
}

/**
 * For orchestrators: /livez answers while the process serves at all; /readyz only when it can
 * take purchases. Razer's own /health is left as Razer's.
 */
export function healthRoutes(deps: ReadinessDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get('/livez', (c) => c.json({ status: 'live' }));
  app.get('/readyz', async (c) => {
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
    const ready = Object.values(checks).every((v) => v === 'ok');
    const status = ready ? 'ready' : 'not ready';
    if (deps.onAnswer) {
      let details: Record<string, unknown> | null = null;
      try {
        details = (await deps.details?.()) ?? null;
      } catch (err) {
        deps.onFailure?.('details', err);
      }
      deps.onAnswer({ status, checks, details });
    }
    return c.json({ status, checks }, ready ? 200 : 503);
  });
  return app;
}
