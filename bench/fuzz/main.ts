import { parseArgs } from 'node:util';
import { PROPERTIES, type PropertyReport } from './properties.js';

/**
 * `npm run fuzz -- [--runs N] [--seed S] [--only NAME[,NAME]] [--path P]`: every property of
 * bench/fuzz/properties.ts with N runs each (default 1000), one line per property; exit 1 on a
 * failure, with fast-check's counterexample (its seed and path replay it: `--seed S --path P`).
 * `--allow` names tags of known findings (the `[tag]` a failure starts with) to count rather than
 * fail on while they are being fixed, so that the search goes on past them.
 */
const USAGE = `usage: npm run fuzz -- [--runs N] [--seed S] [--only ${Object.keys(PROPERTIES).join('|')}] [--path P] [--allow TAG,TAG]`;

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1000' },
      seed: { type: 'string' },
      only: { type: 'string' },
      path: { type: 'string' },
      allow: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  const only = values.only?.split(',').map((s) => s.trim()) ?? Object.keys(PROPERTIES);
  const unknown = only.filter((name) => !(name in PROPERTIES));
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new Error(`--runs must be a whole number above 0\n${USAGE}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be a whole number\n${USAGE}`);
  if (unknown.length > 0) throw new Error(`no property ${unknown.join(', ')}\n${USAGE}`);
  const allow = values.allow?.split(',').map((s) => s.trim()) ?? [];
  return { runs, seed, only, path: values.path, allow };
}

const pad = (text: string, width: number) => text.padEnd(width);

async function main(): Promise<number> {
  const o = options();
  console.log(
    `fuzz: ${o.runs} runs per property, seed ${o.seed}${o.path ? `, path ${o.path}` : ''}${o.allow.length ? `, allowing ${o.allow.join(', ')}` : ''}`,
  );
  console.log(`${pad('property', 24)}${pad('runs', 9)}${pad('skipped', 9)}${pad('failures', 10)}time`);
  const reports: PropertyReport[] = [];
  for (const name of o.only) {
    const property = PROPERTIES[name];
    if (!property) continue;
    const r = await property({ runs: o.runs, seed: o.seed, path: o.path, allow: o.allow });
    reports.push(r);
    console.log(
      `${pad(name, 24)}${pad(String(r.runs), 9)}${pad(String(r.skipped), 9)}${pad(String(r.failures), 10)}${(r.ms / 1000).toFixed(1)} s`,
    );
    if (r.answers.length > 0)
      console.log(
        `${' '.repeat(24)}${r.answers
          .slice(0, 10)
          .map(([what, n]) => `${what} x${n}`)
          .join(', ')}`,
      );
  }
  const failed = reports.filter((r) => r.failures > 0);
  for (const r of failed) console.log(`\n--- ${r.name} failed (seed ${r.seed}) ---\n${r.failure}`);
  const total = reports.reduce((s, r) => s + r.ms, 0) / 1000;
  console.log(`\n${reports.length - failed.length} passed, ${failed.length} failed, ${total.toFixed(1)} s`);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
