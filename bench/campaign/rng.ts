import { seeded } from '../soak/random.js';

/** A seeded generator (mulberry32): the same choices for the same seed. */
export interface Rng {
  /** In [0, 1). */
  next(): number;
  chance(p: number): boolean;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** One item, each as likely as its weight. */
  weighted<T extends { weight: number }>(items: readonly T[]): T;
}

export function seededRng(seed: number): Rng {
  const next = seeded(seed);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  return {
    next,
    chance: (p) => p > 0 && next() < p,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick,
    weighted<T extends { weight: number }>(items: readonly T[]): T {
      let left = next() * items.reduce((sum, i) => sum + i.weight, 0);
      for (const item of items) {
        left -= item.weight;
        if (left < 0) return item;
      }
      return pick(items);
    },
  };
}

/** A child generator for one concern, so that adding a choice elsewhere does not shift this one. */
export function forkRng(parent: Rng): Rng {
  return seededRng(Math.floor(parent.next() * 2 ** 32));
}
