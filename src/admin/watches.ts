import type { SupplierCallRecord } from '../mitra/client.js';
import type { Alerter } from './alerts.js';

/** The catalogue is refreshed every 10 minutes; an hour without one means refreshes fail. */
export const CATALOGUE_STALE_MS = 60 * 60 * 1000;

type Turn = (job: string, ttlMs: number) => Promise<boolean>;

/**
 * Alerts once when the catalogue (brand list or the stalest variation list) is older than
 * CATALOGUE_STALE_MS, and clears when it is fresh again; on one instance at a time.
 */
export function watchCatalogue(deps: {
  age: () => Promise<{ brandsMs: number | null; oldestVariationsMs: number | null }>;
  alerter: Pick<Alerter, 'raise' | 'clear' | 'release'>;
  turn: Turn;
  intervalMs: number;
  onError: (err: unknown) => void;
}): { stop(): void; check(): Promise<void> } {
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      const mine = await deps.turn('catalogue-watch', deps.intervalMs * 2);
      const age = await deps.age();
      const oldest = Math.max(age.brandsMs ?? Number.POSITIVE_INFINITY, age.oldestVariationsMs ?? 0);
      if (!mine) {
        // Another instance judges the catalogue now: this one stops showing what it raised, and
        // forgets it once the catalogue is fresh (so that it tells of the next stale spell).
        if (oldest > CATALOGUE_STALE_MS) deps.alerter.release('stale-catalogue', 'catalogue');
        else deps.alerter.clear('stale-catalogue', 'catalogue');
        return;
      }
      if (oldest > CATALOGUE_STALE_MS) {
        const minutes = Number.isFinite(oldest)
          ? `${Math.round(oldest / 60_000)} minutes old`
          : 'never fetched';
        deps.alerter.raise({
          kind: 'stale-catalogue',
          key: 'catalogue',
          message: `the supplier catalogue is ${minutes}: prices and availability may be wrong (is Mitra reachable?)`,
        });
      } else {
        deps.alerter.clear('stale-catalogue', 'catalogue');
      }
    } catch (err) {
      deps.onError(err);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}

/** Mitra refused our key or signature: HTTP 401/403, or rc 41-43. */
export const isAuthFailure = (call: Pick<SupplierCallRecord, 'httpStatus' | 'rcCode'>): boolean =>
  call.httpStatus === 401 || call.httpStatus === 403 || ['41', '42', '43'].includes(call.rcCode ?? '');

/** Watches every supplier call: an auth failure alerts once, until a call is accepted again. */
export function watchSupplierAuth(
  alerter: Pick<Alerter, 'raise' | 'clear'>,
): (call: Pick<SupplierCallRecord, 'httpStatus' | 'rcCode' | 'outcome' | 'operation'>) => void {
  return (call) => {
    if (isAuthFailure(call)) {
      alerter.raise({
        kind: 'supplier-auth',
        key: 'credentials',
        message: `Mitra refused our credentials or signature (${call.operation}: ${call.httpStatus ? `HTTP ${call.httpStatus}` : ''}${call.rcCode ? ` rc ${call.rcCode}` : ''}): check MITRA_API_KEY and MITRA_SECRET_KEY`,
      });
    } else if (call.outcome === 'accepted') {
      alerter.clear('supplier-auth', 'credentials');
    }
  };
}
