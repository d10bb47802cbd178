import type { Store } from '../db/store.js';
import type { Move, MoveResult } from '../db/types.js';
import { assertMove } from './states.js';

/** Every state move goes through here: the rule first (illegal moves throw), then the store's CAS. */
export function commitMove(store: Store, move: Move): Promise<MoveResult> {
  assertMove(move.from, move.to);
  return store.moveTransaction(move);
}
