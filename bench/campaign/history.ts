/** What a campaign run records: everything the invariant checker reads, nothing it does not. */

export type Endpoint = 'init' | 'topup' | 'query' | 'cancel';

/** One request to Razer's endpoints and what came back. */
export interface Exchange {
  /** Ticks of the run's one event counter (sends, answers, kills): what happened before what. */
  sentTick: number;
  answeredTick: number;
  round: number;
  /** The gateway instance the request went to. */
  instance: string;
  endpoint: Endpoint;
  transactionNumber: string;
  sentAt: number;
  answeredAt: number;
  /** null: no answer (the connection died with the instance, or the request timed out). */
  status: number | null;
  body: string;
  /** Why there was no answer. */
  error?: string | undefined;
}

export interface Kill {
  round: number;
  instance: string;
  /** When the campaign killed it, or saw it die at its crash point. */
  at: number;
  tick: number;
  /** `exited`: the process died without being killed (a finding in itself). */
  how: 'sigkill' | 'crash-point' | 'exited';
  point?: string | undefined;
}

/** A purchase of the workload: the transaction and what the script meant to do with it. */
export interface Purchase {
  transactionNumber: string;
  round: number;
  sku: string;
  voucher: boolean;
  plan: string;
}

/** A supplier order as the simulator holds it at the end. */
export interface SupplierOrder {
  trxCode: string;
  refId: string;
  status: number;
  voucherCode: string | null;
  sn: string | null;
  history: { status_name: string; timestamp: string }[];
}

/** A create-order request that reached the simulator, whatever became of it. */
export interface OrderAttempt {
  refId: string;
  at: number;
}

export interface StoredEvent {
  from: string;
  to: string;
  cause: string;
  at: number;
  detail: string | null;
}

/** A transaction as the gateway stored it, read once every instance has stopped. */
export interface StoredTransaction {
  transactionNumber: string;
  refId: string;
  state: string;
  token: string;
  isVoucher: boolean;
  trxCode: string | null;
  voucherCode: string | null;
  attention: boolean;
  /** Create-orders sent, and of them resends to resolve UNKNOWN. */
  orderAttempts: number;
  resends: number;
  events: StoredEvent[];
}

export interface History {
  purchases: Purchase[];
  exchanges: Exchange[];
  kills: Kill[];
  orders: SupplierOrder[];
  attempts: OrderAttempt[];
  stored: StoredTransaction[];
}

/** Collects the history as the run goes. */
export class Recorder {
  readonly purchases: Purchase[] = [];
  readonly exchanges: Exchange[] = [];
  readonly kills: Kill[] = [];
  #tick = 0;

  /** The next tick of the event counter. */
  tick(): number {
    return ++this.#tick;
  }

  finish(end: Pick<History, 'orders' | 'attempts' | 'stored'>): History {
    return { purchases: this.purchases, exchanges: this.exchanges, kills: this.kills, ...end };
  }
}
