import { z } from 'zod';
import type { Store } from '../db/store.js';
import type { MovePatch, TransactionRow } from '../db/types.js';
import type { Logger } from '../log.js';
import { holderName } from './holders.js';
import { commitMove } from './moves.js';
import { isTerminal, type State, stateSchema } from './states.js';
import type { WebhookProcessor } from './webhooks.js';

/** What an operator may say about a transaction whose outcome the gateway could not settle. */
/** Characters no one can see or type: control (bar line breaks and tabs), format, private, unassigned. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/u;
const ALLOWED_CONTROL = new Set(['\n', '\r', '\t']);

/** A code handed to the player as typed, refusing what the operator could not have seen. */
const code = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .superRefine((text, ctx) => {
      for (const ch of text) {
        if (!INVISIBLE.test(ch) || ALLOWED_CONTROL.has(ch)) continue;
        const point = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
        ctx.addIssue({ code: 'custom', message: `holds an invisible character (${point}): type it again` });
        return;
      }
    });

export const resolutionSchema = z.strictObject({
  outcome: z.enum(['delivered', 'failed'], { error: 'must be delivered or failed' }),
  reason: z
    .string({ error: 'is required: why the operator decided (kept on the event)' })
    .trim()
    .min(3, { error: 'must say why, in at least 3 characters' })
    .max(500, { error: 'must be at most 500 characters' }),
  // What the operator confirms on the page is what the player gets: nothing invisible in it.
  voucherCode: code(500).optional(),
  trxCode: code(100).optional(),
  seenState: stateSchema
    .optional()
    .describe('The state you decided on: refused (409) if the transaction is in another state now.'),
});
export type Resolution = z.infer<typeof resolutionSchema>;

export const acknowledgementSchema = z.strictObject({
  reason: resolutionSchema.shape.reason,
  seenFlag: z
    .string()
    .max(16_000)
    .optional()
    .describe("The flag's reason you read: refused (409) if another flag replaced it since."),
});

/** Who acts: the X-Operator header's value, else `admin`. Printable, short. */
export const actorSchema = z
  .string()
  .trim()
  // ASCII: it travels in an HTTP header.
  .regex(/^[A-Za-z0-9 ._@+-]{1,64}$/, { error: 'must be 1-64 ASCII letters, digits, spaces or . _ @ + -' });

/** The operator boundary's one error type: the admin API maps `status` to its answer. */
export class OperatorError extends Error {
  override readonly name = 'OperatorError';
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: 'INVALID' | 'NOT_FOUND' | 'CONFLICT' | 'BUSY',
    message: string,
  ) {
    super(message);
  }
}

export interface OperatorDeps {
  store: Store;
  engine: {
    advance(transactionNumber: string, cause: 'operator', hint?: { verifyFinal?: boolean }): Promise<boolean>;
  };
  now: () => number;
  logger: Logger;
  /** As long as a step's lease: the resolution holds the row as a step would. */
  leaseMs: number;
}

let acts = 0;
/** Each act its own holder: an act that outlived its lease cannot release the next one's. */
const operatorLease = (deps: OperatorDeps, n: string) =>
  holderName(deps.store.instanceId, `/operator/${n}/${++acts}`);

const NEVER_SENT: readonly State[] = ['INITIATED', 'CANCELLED', 'EXPIRED'];

async function load(store: Store, n: string): Promise<TransactionRow> {
  const row = await store.getTransaction(n);
  if (!row) throw new OperatorError(404, 'NOT_FOUND', `no transaction ${n}`);
  return row;
}

/**
 * Asks the supplier about a transaction now (within the rate limit), as the reconciler would:
 * QUEUED is sent, ORDERING/UNKNOWN/PROCESSING are looked up; SUCCESS and FAILED are checked
 * against the order status, and a contradiction is flagged, never applied.
 */
export async function recheck(
  deps: OperatorDeps,
  n: string,
  actor: string,
): Promise<{ before: State; completed: boolean; transaction: TransactionRow }> {
  const row = await load(deps.store, n);
  if (NEVER_SENT.includes(row.state))
    throw new OperatorError(409, 'CONFLICT', `${n} is ${row.state}: it never went to the supplier`);
  deps.logger.info({ transactionNumber: n, actor, state: row.state }, 'operator recheck');
  const completed = await deps.engine.advance(n, 'operator', { verifyFinal: isTerminal(row.state) });
  return { before: row.state, completed, transaction: await load(deps.store, n) };
}

/** Why a transaction in this state cannot take this resolution; null when it can. */
export function resolutionRefusal(row: TransactionRow, resolution: Resolution): OperatorError | null {
  const n = row.transactionNumber;
  if (resolution.seenState !== undefined && resolution.seenState !== row.state)
    return new OperatorError(
      409,
      'CONFLICT',
      `${n} is ${row.state} now, not ${resolution.seenState} as when you decided; look again`,
    );
  if (isTerminal(row.state))
    return new OperatorError(409, 'CONFLICT', `${n} is already ${row.state}; a final state never changes`);
  if (row.state === 'INITIATED')
    return new OperatorError(409, 'CONFLICT', `${n} was never topped up: Razer cancels it or it expires`);
  if (row.state === 'QUEUED') {
    if (!row.attention)
      return new OperatorError(409, 'CONFLICT', `${n} is QUEUED: not sent to the supplier yet, it will be`);
    if (resolution.outcome === 'delivered')
      return new OperatorError(
        409,
        'CONFLICT',
        `${n} is QUEUED: nothing was ordered, so it cannot be delivered`,
      );
  }
  if (resolution.outcome === 'delivered' && row.isVoucher && !resolution.voucherCode)
    return new OperatorError(
      400,
      'INVALID',
      `${n} is a voucher: resolving it as delivered needs its voucherCode`,
    );
  if (resolution.outcome === 'delivered' && !row.trxCode && !resolution.trxCode)
    return new OperatorError(
      400,
      'INVALID',
      `${n} has no supplier trx_code: resolving it as delivered needs the trxCode Razer is given as referenceId`,
    );
  if (resolution.trxCode && row.trxCode && resolution.trxCode !== row.trxCode)
    return new OperatorError(
      409,
      'CONFLICT',
      `${n} already has trx_code ${row.trxCode}, not ${resolution.trxCode}`,
    );
  return null;
}

/**
 * An operator settles an open transaction (or a flagged queued one) as delivered or failed.
 * It holds the row's step lease meanwhile, so no step of any instance runs at the same time;
 * the move is an event like any other, with the actor and the reason. Razer's next query
 * answers from it. A final state is never touched.
 */
export async function resolve(
  deps: OperatorDeps,
  n: string,
  resolution: Resolution,
  actor: string,
): Promise<TransactionRow> {
  const before = await load(deps.store, n);
  const first = resolutionRefusal(before, resolution);
  if (first) throw first;
  const lease = operatorLease(deps, n);
  if (!(await deps.store.claimStep(n, lease, deps.leaseMs)))
    throw new OperatorError(409, 'BUSY', `a step is under way on ${n}; try again in a few seconds`);
  try {
    // Read again under the lease: what was checked may have moved meanwhile.
    let row = await load(deps.store, n);
    // Decided on what `before` showed: a move since (an order found, a flag) is for a person to see.
    const refusal = resolutionRefusal(row, {
      ...resolution,
      seenState: resolution.seenState ?? before.state,
    });
    if (refusal) throw refusal;
    const move = async (to: State, detail: string, patch: MovePatch) => {
      const result = await commitMove(deps.store, {
        transactionNumber: n,
        from: row.state,
        to,
        cause: 'operator',
        actor,
        detail,
        patch,
        at: deps.now(),
        lease,
      });
      if (!result.ok)
        throw new OperatorError(409, 'CONFLICT', `${n} moved meanwhile (${result.reason}); look again`);
      row = result.row;
    };
    if (row.state === 'ORDERING') {
      // No step holds it, so its create-order reply is lost: UNKNOWN first, as the reconciler would.
      await move('UNKNOWN', `taken over by ${actor} to resolve it`, {});
    }
    const trxCode = resolution.trxCode ?? row.trxCode;
    const detail = `resolved as ${resolution.outcome} by ${actor}: ${resolution.reason}`;
    if (resolution.outcome === 'delivered') {
      await move('SUCCESS', detail, {
        trxCode,
        voucherCode: resolution.voucherCode ?? row.voucherCode,
        attention: false,
        nextCheckAt: null,
      });
    } else {
      await move('FAILED', detail, {
        trxCode,
        failureCode: 'FAILED',
        failureReason: 'not delivered',
        attention: false,
        nextCheckAt: null,
      });
    }
    deps.logger.warn(
      { transactionNumber: n, actor, outcome: resolution.outcome, state: row.state },
      `operator resolution: ${detail}`,
    );
    return row;
  } finally {
    await deps.store.releaseStep(n, lease).catch(() => undefined);
  }
}

/**
 * Clears the flag of a transaction an operator has dealt with outside the gateway (a final one
 * whose contradiction was settled with Razer Gold and VCGamers). The state never changes; the
 * reason stays on the row and the acknowledgement is logged with the actor.
 */
export async function acknowledge(
  deps: OperatorDeps,
  n: string,
  reason: string,
  actor: string,
  seenFlag?: string,
): Promise<TransactionRow> {
  const refusal = (row: TransactionRow): OperatorError | null => {
    if (!row.attention) return new OperatorError(409, 'CONFLICT', `${n} is not flagged`);
    if (seenFlag !== undefined && !sameText(row.attentionReason ?? '', seenFlag))
      return new OperatorError(
        409,
        'CONFLICT',
        `${n} is flagged for another reason now (${row.attentionReason ?? 'none'}); look again`,
      );
    // An open one would be flagged again at its next check: it is resolved, not acknowledged.
    if (!isTerminal(row.state))
      return new OperatorError(409, 'CONFLICT', `${n} is ${row.state}: resolve it (or recheck it) instead`);
    return null;
  };
  const first = refusal(await load(deps.store, n));
  if (first) throw first;
  // Held as a step would hold it: a step's flag cannot land between the check and the clear.
  const lease = operatorLease(deps, n);
  if (!(await deps.store.claimStep(n, lease, deps.leaseMs)))
    throw new OperatorError(409, 'BUSY', `a step is under way on ${n}; try again in a few seconds`);
  let row: TransactionRow;
  try {
    row = await load(deps.store, n);
    const again = refusal(row);
    if (again) throw again;
    if (!(await deps.store.patchTransaction(n, row.state, { attention: false }, deps.now(), lease)))
      throw new OperatorError(409, 'CONFLICT', `${n} moved meanwhile; look again`);
  } finally {
    await deps.store.releaseStep(n, lease).catch(() => undefined);
  }
  deps.logger.warn(
    { transactionNumber: n, actor, state: row.state, flag: row.attentionReason, reason },
    'operator acknowledged a flagged transaction',
  );
  return load(deps.store, n);
}

/** Flag texts as typed back by a browser, whose form fields turn line breaks into CRLF. */
const sameText = (a: string, b: string): boolean => a.replace(/\r\n?/g, '\n') === b.replace(/\r\n?/g, '\n');

/** Replays a stored webhook for an operator: its outcome, or the boundary's error. */
export async function replayWebhook(webhooks: Pick<WebhookProcessor, 'replay'>, id: number, actor: string) {
  const outcome = await webhooks.replay(id, actor);
  if (!outcome) throw new OperatorError(404, 'NOT_FOUND', `no webhook ${id}`);
  if (outcome === 'busy')
    throw new OperatorError(
      409,
      'BUSY',
      `a step kept the transaction of webhook ${id}; try again in a few seconds`,
    );
  return outcome;
}
