import type { Exchange } from './history.js';

/**
 * What an answer tells Razer about the goods (razer-side §2-§4): what is compared when
 * answers about one transaction must agree.
 */
export type Meaning =
  /** 200 SUCCESS to a top-up or query: delivered, with this voucher code and supplier reference. */
  | { kind: 'delivered'; code: string | null; reference: string | null }
  /** 400 to a top-up or query (code), or 200 to a cancel (code null, the state in `state`). */
  | { kind: 'refused'; code: string | null; state: string | null }
  /** 408: not final yet. */
  | { kind: 'pending' }
  /** 500: an uncertain failure, Razer will query. */
  | { kind: 'uncertain' }
  /** 400 NOT_ALLOW_CANCEL: the order has gone to the supplier. */
  | { kind: 'sent' }
  /** 400 ORIGIN_NOT_FOUND: no such transaction. */
  | { kind: 'unknown-transaction' }
  /** 200 to an init: the transaction exists, with this answer's token. */
  | { kind: 'initiated'; token: string | null }
  /** 400 to an init: not created. */
  | { kind: 'init-refused'; code: string | null }
  /** No answer at all. */
  | { kind: 'none' }
  /** Anything Razer's contract does not expect here. */
  | { kind: 'other'; status: number; code: string | null };

function json(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function voucherCode(body: Record<string, unknown>): string | null {
  const voucher = body.voucher;
  if (!voucher || typeof voucher !== 'object') return null;
  return text((voucher as Record<string, unknown>).code);
}

const CANCEL_DONE = new Set(['CANCELLED', 'FAILED', 'EXPIRED']);

export function meaningOf(e: Pick<Exchange, 'endpoint' | 'status' | 'body'>): Meaning {
  if (e.status === null) return { kind: 'none' };
  const body = json(e.body);
  const code = text(body.code);
  if (e.endpoint === 'init') {
    if (e.status === 200) return { kind: 'initiated', token: text(body.transactionToken) };
    if (e.status === 400) return { kind: 'init-refused', code };
    return { kind: 'other', status: e.status, code };
  }
  if (e.status === 400 && code === 'ORIGIN_NOT_FOUND') return { kind: 'unknown-transaction' };
  if (e.status === 408) return { kind: 'pending' };
  if (e.status === 500) return { kind: 'uncertain' };
  if (e.endpoint === 'cancel') {
    const state = text(body.status);
    if (e.status === 200 && state !== null && CANCEL_DONE.has(state))
      return { kind: 'refused', code: null, state };
    if (e.status === 400 && code === 'NOT_ALLOW_CANCEL') return { kind: 'sent' };
    return { kind: 'other', status: e.status, code: code ?? state };
  }
  if (e.status === 200 && body.status === 'SUCCESS')
    return { kind: 'delivered', code: voucherCode(body), reference: text(body.referenceId) };
  if (e.status === 400) return { kind: 'refused', code, state: null };
  return { kind: 'other', status: e.status, code };
}

/** 200 or 400 about the goods: what every later answer must agree with. */
export const isDefinitive = (m: Meaning): m is Extract<Meaning, { kind: 'delivered' | 'refused' }> =>
  m.kind === 'delivered' || m.kind === 'refused';

/**
 * Whether `later` agrees with the definitive `first`: the same outcome (status and code; for a
 * voucher the code). No answer agrees with anything; a cancel refused because the order was
 * sent agrees with a delivery.
 */
export function agrees(first: Extract<Meaning, { kind: 'delivered' | 'refused' }>, later: Meaning): boolean {
  if (later.kind === 'none') return true;
  if (first.kind === 'delivered') {
    if (later.kind === 'sent') return true;
    return later.kind === 'delivered' && later.code === first.code && later.reference === first.reference;
  }
  if (later.kind !== 'refused') return false;
  return first.code === null || later.code === null || first.code === later.code;
}

export function describeMeaning(m: Meaning): string {
  switch (m.kind) {
    case 'delivered':
      return `delivered (ref ${m.reference ?? '-'}${m.code === null ? '' : `, code ${m.code}`})`;
    case 'refused':
      return `not delivered (${m.code ?? m.state ?? '?'})`;
    case 'init-refused':
      return `init refused (${m.code ?? '?'})`;
    case 'other':
      return `unexpected ${m.status} ${m.code ?? ''}`.trim();
    case 'initiated':
      return 'initiated';
    default:
      return m.kind;
  }
}
