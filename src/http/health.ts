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
    return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
  });
  return app;
}
