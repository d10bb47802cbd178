import { z } from 'zod';
import { EVENT_CAUSES, TRANSACTION_STATES } from '../db/vocabulary.js';

/**
 * The transaction's life, as drawn in the design:
 *
 * INITIATED --topup--> QUEUED --sent--> ORDERING --accepted--> PROCESSING --> SUCCESS
 *     |                  |                 |  \--definitive refusal--------> FAILED
 *     |                  |                 \--no clear answer--> UNKNOWN --> PROCESSING/SUCCESS/FAILED
 *     |--cancel--> CANCELLED <--cancel--/
 *     \--query before topup / TTL--> EXPIRED
 */
export const STATES = TRANSACTION_STATES;
export const stateSchema = z.enum(STATES);
export type State = z.infer<typeof stateSchema>;

export const CAUSES = EVENT_CAUSES;
export const causeSchema = z.enum(CAUSES);
export type Cause = z.infer<typeof causeSchema>;

const MOVES: Readonly<Record<State, readonly State[]>> = {
  INITIATED: ['QUEUED', 'CANCELLED', 'EXPIRED'],
  // QUEUED -> FAILED: refused before anything was sent (price above max_price, SKU disabled).
  QUEUED: ['ORDERING', 'CANCELLED', 'FAILED'],
  // ORDERING -> QUEUED is the one step back: the supplier refused to look at the order at all
  // (rate limited), so nothing exists upstream and the order is simply sent again later.
  ORDERING: ['PROCESSING', 'FAILED', 'UNKNOWN', 'QUEUED'],
  PROCESSING: ['SUCCESS', 'FAILED'],
  UNKNOWN: ['PROCESSING', 'SUCCESS', 'FAILED'],
  SUCCESS: [],
  FAILED: [],
  CANCELLED: [],
  EXPIRED: [],
};

export function isTerminal(state: State): boolean {
  return MOVES[state].length === 0;
}

export function canMove(from: State, to: State): boolean {
  return MOVES[from].includes(to);
}

export class IllegalMoveError extends Error {
  override readonly name = 'IllegalMoveError';
  constructor(
    readonly from: State,
    readonly to: State,
  ) {
    super(
      isTerminal(from)
        ? `illegal move ${from} -> ${to}: ${from} is terminal and never changes`
        : `illegal move ${from} -> ${to}: allowed from ${from} are ${MOVES[from].join(', ')}`,
    );
  }
}

/** Refuses every move the diagram does not draw. */
export function assertMove(from: State, to: State): void {
  if (!canMove(from, to)) throw new IllegalMoveError(from, to);
}
