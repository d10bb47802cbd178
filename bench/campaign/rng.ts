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
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
