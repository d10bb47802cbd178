import { EventEmitter } from 'node:events';
import type { SalesGroupQuery, SalesPageQuery } from '../sales.js';
import type { Store } from '../store.js';
import type {
  AuditTable,
  FlagCondition,
  InitEvent,
  Move,
  MovePatch,
  NewExchange,
  NewSupplierCall,
  OpenByTopUpQuery,
  PurchaseLimits,
  RepeatedQueries,
  SharedBudget,
  TransactionQuery,
  TransactionRow,
  WebhookQuery,
} from '../types.js';
import { isFinalState, type StoredState } from '../vocabulary.js';
import * as catalogue from './catalogue.js';
import { migrateStorage, openStorage, type Storage } from './connection.js';
import * as dailySummary from './daily-summary.js';
import * as exchanges from './exchanges.js';
import { GroupCommit } from './group-commit.js';
import { checkWritable } from './health.js';
import { insertRow } from './prepared.js';
import { pruneBatch } from './retention.js';
import * as sales from './sales.js';
import { razerExchanges, supplierCalls } from './schema.js';
import * as supplierBalance from './supplier-balance.js';
import * as calls from './supplier-calls.js';
import * as txs from './transactions.js';
import { countRepeatedQueries } from './transactions.js';
import * as webhooks from './webhooks.js';

interface Lease {
  holder: string;
  until: number;
}

/**
 * The SQLite adapter: better-sqlite3 is synchronous. Reads are done at once; writes are group
 * committed (./group-commit.ts): those of one turn of the event loop share one commit, and each
 * promise settles once its write is durable. One SQLite file serves one gateway process, so
 * what coordinates steps and jobs (leases) lives in this process, timed on its monotonic clock,
 * and every check and the write it guards run in the same synchronous turn, inside the batch.
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly instanceId: string;
  readonly storage: Storage;
  readonly #leases = new Map<string, Lease>();
  readonly #jobs = new Map<string, Lease>();
  readonly #moves = new EventEmitter();
  readonly #group: GroupCommit;

  constructor(storage: Storage, instanceId: string) {
    this.storage = storage;
    this.instanceId = instanceId;
    this.#moves.setMaxListeners(0);
    this.#group = new GroupCommit(storage.sqlite);
  }

  static open(path: string, instanceId: string): SqliteStore {
    return new SqliteStore(openStorage(path), instanceId);
  }

  get #db() {
    return this.storage.db;
  }

  async getTransaction(n: string) {
    return txs.getTransaction(this.#db, n);
  }
  async insertTransaction(row: Parameters<Store['insertTransaction']>[0]) {
    return this.#write(() => txs.insertTransaction(this.#db, row));
  }
  async listEvents(n: string) {
    return txs.listEvents(this.#db, n);
  }
  async moveTransaction(move: Move) {
    const result = await this.#write(() => {
      if (move.lease !== undefined && !this.#holds(move.transactionNumber, move.lease))
        return { ok: false as const, reason: 'lost-lease' as const };
      return txs.moveTransaction(this.#db, move, this.instanceId);
    });
    if (result.ok && isFinalState(move.to)) this.#moves.emit('final', move.transactionNumber);
    return result;
  }
  async patchTransaction(n: string, state: StoredState, patch: MovePatch, at: number, lease?: string) {
    return this.#write(() => {
      if (lease !== undefined && !this.#holds(n, lease)) return false;
      return txs.patchTransaction(this.#db, n, state, patch, at);
    });
  }
  async countRecentPurchases(query: Parameters<Store['countRecentPurchases']>[0]) {
    return txs.countRecentPurchases(this.#db, query);
  }
  async findBySupplierRef(ref: string) {
    return txs.findBySupplierRef(this.#db, ref);
  }
  async listInState(state: StoredState, limit?: number, after?: string) {
    return txs.listInState(this.#db, state, limit, after);
  }
  async listExpiredInitiated(now: number, limit: number) {
    return txs.listExpiredInitiated(this.#db, now, limit);
  }
  async listOverdue(now: number, limit: number) {
    return txs.listOverdue(this.#db, now, limit);
  }
  async pageTransactions(query: TransactionQuery) {
    return txs.pageTransactions(this.#db, query);
  }
  async countTransactions() {
    return txs.countTransactions(this.#db);
  }
  async oldestOpen() {
    return txs.oldestOpen(this.#db);
  }
  async openCommitments() {
    return txs.openCommitments(this.#db);
  }
  async fillTopUpTimes(deadlineMs: number) {
    return this.#write(() => txs.fillTopUpTimes(this.#db, deadlineMs));
  }
  async listOpenByTopUp(query: OpenByTopUpQuery) {
    return txs.listOpenByTopUp(this.#db, query);
  }
  async salesGroups(query: SalesGroupQuery) {
    return sales.salesGroups(this.#db, query);
  }
  async salesPage(query: SalesPageQuery) {
    return sales.salesPage(this.#db, query);
  }
  async purchasesByHour(since: number, until: number) {
    return txs.purchasesByHour(this.#db, since, until);
  }
  async flagForOperator(n: string, reason: string, at: number, when?: FlagCondition) {
    return this.#write(() => txs.flagForOperator(this.#db, n, reason, at, when));
  }

  async claimStep(n: string, holder: string, ttlMs: number) {
    if (!this.#claim(this.#leases, n, holder, ttlMs)) return null;
    let row: TransactionRow | undefined;
    try {
      row = txs.getTransaction(this.#db, n);
    } finally {
      // Not held over a row that is not there, nor over a read that failed.
      if (!row) this.#leases.delete(n);
    }
    return row ?? null;
  }
  async renewStep(n: string, holder: string, ttlMs: number) {
    if (!this.#holds(n, holder)) return false;
    this.#leases.set(n, { holder, until: performance.now() + ttlMs });
    return true;
  }
  async releaseStep(n: string, holder: string) {
    if (this.#leases.get(n)?.holder === holder) this.#leases.delete(n);
  }
  async claimDue(now: number, limit: number, holder: string, ttlMs: number) {
    const claimed = [];
    // Rows held by a step are skipped; a page larger than `limit` leaves room for them.
    for (const row of txs.listDue(this.#db, now, limit * 2)) {
      if (claimed.length >= limit) break;
      if (this.#claim(this.#leases, row.transactionNumber, holder, ttlMs)) claimed.push(row);
    }
    return claimed;
  }

  async recordExchange(exchange: NewExchange) {
    await this.#write(() => exchanges.recordExchange(this.#db, exchange));
  }
  async findCreatingInit(n: string) {
    return exchanges.findCreatingInit(this.#db, n);
  }
  async insertInitiated(
    row: Parameters<Store['insertInitiated']>[0],
    exchange: NewExchange,
    limits?: PurchaseLimits,
    initEvent?: InitEvent,
  ) {
    const event = initEvent && { ...initEvent, instanceId: this.instanceId };
    return this.#write(() => exchanges.insertInitiated(this.#db, row, exchange, limits, event));
  }
  async listExchanges(n: string) {
    return exchanges.listExchanges(this.#db, n);
  }

  async recordSupplierCall(call: NewSupplierCall) {
    await this.#write(() => calls.recordSupplierCall(this.#db, call, this.instanceId));
  }
  async listSupplierCalls(n: string) {
    return calls.listSupplierCalls(this.#db, n);
  }
  async listCallEndsSince(since: number, longestCallMs: number) {
    return calls.listCallEndsSince(this.#db, since, longestCallMs);
  }
  async lastCallOfOtherInstance(instanceId: string, since: number) {
    return calls.lastCallOfOtherInstance(this.#db, instanceId, since);
  }
  async writeAudit(
    rows: readonly NewExchange[],
    callRows: readonly NewSupplierCall[],
    repeats: readonly RepeatedQueries[] = [],
  ) {
    await this.#write(() => {
      const db = this.#db;
      for (const r of repeats) countRepeatedQueries(db, r);
      // One prepared insert per row: a many-row insert is built anew for every batch size.
      for (const row of rows) insertRow(db, razerExchanges, row);
      for (const c of callRows) insertRow(db, supplierCalls, { ...c, instanceId: this.instanceId });
    });
  }

  async storeWebhook(webhook: Parameters<Store['storeWebhook']>[0]) {
    return this.#write(() => webhooks.storeWebhook(this.#db, webhook));
  }
  async getWebhook(id: number) {
    return webhooks.getWebhook(this.#db, id);
  }
  async markWebhook(id: number, outcome: Parameters<Store['markWebhook']>[1], at: number) {
    await this.#write(() => webhooks.markWebhook(this.#db, id, outcome, at));
  }
  async listUnprocessedWebhooks(limit?: number, afterId?: number) {
    return webhooks.listUnprocessedWebhooks(this.#db, limit, afterId);
  }
  async listWebhooks(limit?: number) {
    return webhooks.listWebhooks(this.#db, limit);
  }
  async pageWebhooks(query: WebhookQuery) {
    return webhooks.pageWebhooks(this.#db, query);
  }

  async replaceBrands(brands: Parameters<Store['replaceBrands']>[0], at: number) {
    await this.#write(() => catalogue.replaceBrands(this.#db, brands, at));
  }
  async replaceVariations(
    brandKey: string,
    variations: Parameters<Store['replaceVariations']>[1],
    at: number,
  ) {
    await this.#write(() => catalogue.replaceVariations(this.#db, brandKey, variations, at));
  }
  async getBrand(brandKey: string) {
    return catalogue.getBrand(this.#db, brandKey);
  }
  async getVariation(brandKey: string, variationKey: string) {
    return catalogue.getVariation(this.#db, brandKey, variationKey);
  }
  async catalogueFetchedAt(brandKeys?: readonly string[]) {
    return catalogue.catalogueFetchedAt(this.#db, brandKeys);
  }

  async pruneBatch(table: AuditTable, before: number, afterId: number, size: number) {
    return this.#write(() => pruneBatch(this.#db, table, before, afterId, size));
  }

  async tryJobLease(name: string, holder: string, ttlMs: number) {
    return this.#claim(this.#jobs, name, holder, ttlMs, true);
  }
  /** One process: its own limiter is the whole budget. */
  rateBudget(_budget: SharedBudget) {
    return null;
  }
  onFinal(listener: (transactionNumber: string) => void) {
    this.#moves.on('final', listener);
    return () => {
      this.#moves.off('final', listener);
    };
  }

  async claimDailySummary(day: string, holder: string, ttlMs: number) {
    return this.#write(() => dailySummary.claimDailySummary(this.#db, day, holder, ttlMs));
  }
  async markDailySummarySent(day: string, holder: string, at: number) {
    return this.#write(() => dailySummary.markDailySummarySent(this.#db, day, holder, at));
  }
  async releaseDailySummary(day: string, holder: string, reason: string) {
    await this.#write(() => dailySummary.releaseDailySummary(this.#db, day, holder, reason));
  }
  async getDailySummary(day: string) {
    return dailySummary.getDailySummary(this.#db, day);
  }

  async saveBalance(idr: number, at: number) {
    await this.#write(() => supplierBalance.saveBalance(this.#db, idr, at, this.instanceId));
  }
  async lastBalance() {
    return supplierBalance.lastBalance(this.#db);
  }

  async checkWritable() {
    checkWritable(this.#db);
  }
  async migrate() {
    return migrateStorage(this.storage);
  }
  async close() {
    this.#group.flush();
    this.#moves.removeAllListeners();
    this.storage.close();
  }

  #write<T>(write: () => T): Promise<T> {
    return this.#group.write(write);
  }

  /** Still the holder: an expired lease nobody took over is still ours (as in SQL's fencing). */
  #holds(n: string, holder: string): boolean {
    return this.#leases.get(n)?.holder === holder;
  }

  #claim(leases: Map<string, Lease>, key: string, holder: string, ttlMs: number, renew = false): boolean {
    const now = performance.now();
    const held = leases.get(key);
    if (held && held.until > now && !(renew && held.holder === holder)) return false;
    leases.set(key, { holder, until: now + ttlMs });
    return true;
  }
}
