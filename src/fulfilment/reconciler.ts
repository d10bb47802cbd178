import type { Store } from '../db/store.js';
import type { Logger } from '../log.js';
import type { FulfilmentEngine } from './engine.js';
import { holderName } from './holders.js';
import { expireInitiated } from './purchases.js';

export interface ReconcilerDeps {
  store: Store;
  engine: Pick<FulfilmentEngine, 'advance' | 'isBusy'>;
  /** A step's lease: longer than one supplier call. */
  leaseMs: number;
  now: () => number;
  logger: Logger;
  /** How often due work is looked for. */
  tickMs?: number;
  /** Steps under way at once; the rate limiter paces the supplier calls among them. */
  maxInFlight?: number;
  onOverdue?: (transactionNumber: string) => void;
}

/**
 * Wakes every open transaction on its schedule (QUEUED: send, PROCESSING: ask, UNKNOWN:
 * resolve), closes initiated transactions past their TTL, and flags for an operator what
 * outlives its deadline. Mitra being down only pushes the schedule on.
 */
export class Reconciler {
  readonly #d: Required<Omit<ReconcilerDeps, 'onOverdue'>> & Pick<ReconcilerDeps, 'onOverdue'>;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #inFlight = 0;
  #stopped = true;
  #ticks = 0;

  constructor(deps: ReconcilerDeps) {
    // `?? default`, not a spread under the deps: a caller passing `tickMs: undefined` (the gateway
    // does, when no option is set) would otherwise get setTimeout(undefined), a tick every ms.
    this.#d = { ...deps, tickMs: deps.tickMs ?? 500, maxInFlight: deps.maxInFlight ?? 32 };
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Runs a tick now (a new QUEUED order, a restart). */
  wake(): void {
    if (!this.#stopped) this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }

  /**
   * One pass over due work. Returns once the steps it started are under way. Several
   * instances may tick at once: due rows are claimed (a lease each, rows being claimed
   * elsewhere skipped), and expiring or flagging is a compare-and-set, so each happens once.
   */
  async tick(): Promise<void> {
    const { store, logger } = this.#d;
    const now = this.#d.now();
    for (const row of await store.listExpiredInitiated(now, 500)) {
      await expireInitiated(store, row.transactionNumber, 'reconciler', 'not topped up within the TTL', now);
    }
    for (const row of await store.listOverdue(now, 500)) {
      const reason = `still ${row.state} past its deadline: resolve by hand (gateway story ${row.transactionNumber})`;
      // Only if still in the state listed: a delivery committed since is not flagged overdue.
      const when = { clear: true, inState: row.state };
      if (!(await store.flagForOperator(row.transactionNumber, reason, now, when))) continue;
      logger.error({ transactionNumber: row.transactionNumber, state: row.state }, `OPERATOR: ${reason}`);
      this.#d.onOverdue?.(row.transactionNumber);
    }
    const room = this.#d.maxInFlight - this.#inFlight;
    if (room <= 0) return;
    this.#ticks = (this.#ticks + 1) % Number.MAX_SAFE_INTEGER;
    const holder = holderName(store.instanceId, `@${this.#ticks}`);
    for (const row of await store.claimDue(now, room, holder, this.#d.leaseMs)) {
      const n = row.transactionNumber;
      if (this.#d.engine.isBusy(n) || this.#inFlight >= this.#d.maxInFlight) {
        // Resting after a fault, or stepping here already: the claim goes back.
        await store.releaseStep(n, holder);
        continue;
      }
      this.#inFlight++;
      void this.#d.engine.advance(n, 'reconciler', {}, holder).finally(() => {
        this.#inFlight--;
      });
    }
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#stopped || this.#ticking) return;
      this.#ticking = this.tick()
        .catch((err: unknown) => this.#d.logger.error({ err }, 'reconciler tick failed'))
        .finally(() => {
          this.#ticking = null;
          if (!this.#stopped) this.#schedule(this.#d.tickMs);
        });
    }, ms);
    this.#timer.unref();
  }
}
