import { describe, expect, it } from 'vitest';
import {
  assertMove,
  canMove,
  IllegalMoveError,
  isTerminal,
  STATES,
  type State,
} from '../src/fulfilment/states.js';

// Written out from the design's diagram, independently of the implementation's table.
const LEGAL: ReadonlyArray<[State, State]> = [
  ['INITIATED', 'QUEUED'],
  ['INITIATED', 'CANCELLED'],
  ['INITIATED', 'EXPIRED'],
  ['QUEUED', 'ORDERING'],
  ['QUEUED', 'CANCELLED'],
  ['QUEUED', 'FAILED'],
  ['ORDERING', 'PROCESSING'],
  ['ORDERING', 'FAILED'],
  ['ORDERING', 'UNKNOWN'],
  ['ORDERING', 'QUEUED'],
  ['PROCESSING', 'SUCCESS'],
  ['PROCESSING', 'FAILED'],
  ['UNKNOWN', 'PROCESSING'],
  ['UNKNOWN', 'SUCCESS'],
  ['UNKNOWN', 'FAILED'],
];
const isLegal = (from: State, to: State) => LEGAL.some(([f, t]) => f === from && t === to);
const ALL_PAIRS = STATES.flatMap((from) => STATES.map((to) => [from, to] as [State, State]));

describe('transaction state machine', () => {
  it.each(LEGAL)('allows %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(true);
    expect(() => assertMove(from, to)).not.toThrow();
  });

  it.each(ALL_PAIRS.filter(([f, t]) => !isLegal(f, t)))(
    'refuses %s -> %s with IllegalMoveError',
    (from, to) => {
      expect(canMove(from, to)).toBe(false);
      let caught: unknown;
      try {
        assertMove(from, to);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(IllegalMoveError);
      expect(caught).toMatchObject({ from, to });
    },
  );

  it('has exactly four terminal states, and no move ever leaves them', () => {
    const terminal = STATES.filter(isTerminal);
    expect(terminal).toEqual(['SUCCESS', 'FAILED', 'CANCELLED', 'EXPIRED']);
    for (const from of terminal) for (const to of STATES) expect(canMove(from, to)).toBe(false);
  });

  it('explains a refused move from a terminal state', () => {
    expect(() => assertMove('SUCCESS', 'FAILED')).toThrow('SUCCESS is terminal and never changes');
    expect(() => assertMove('INITIATED', 'SUCCESS')).toThrow(
      'allowed from INITIATED are QUEUED, CANCELLED, EXPIRED',
    );
  });

  it('never moves to the state it is in', () => {
    for (const s of STATES) expect(canMove(s, s)).toBe(false);
  });

  it('reaches a terminal state from every state', () => {
    const reachesEnd = (s: State, seen = new Set<State>()): boolean =>
      isTerminal(s) ||
      (!seen.has(s) && STATES.some((t) => canMove(s, t) && reachesEnd(t, new Set([...seen, s]))));
    for (const s of STATES) expect(reachesEnd(s)).toBe(true);
  });
});
