import { z } from 'zod';
import { readArgs } from '../cli-args.js';
import { PROPERTIES, type PropertyReport } from './properties.js';

/**
 * `npm run fuzz -- [--runs N] [--seed S] [--only NAME[,NAME]] [--path P]`: every property of
 * bench/fuzz/properties.ts with N runs each (default 1000), one line per property; exit 1 on a
 * failure, with fast-check's counterexample (its seed and path replay it: `--seed S --path P`).
 * `--allow` names tags of known findings (the `[tag]` a failure starts with) to count rather than
 * fail on while they are being fixed, so that the search goes on past them.
 */
const USAGE = `usage: npm run fuzz -- [--runs N] [--seed S] [--only ${Object.keys(PROPERTIES).join('|')}] [--path P] [--allow TAG,TAG]`;

const list = z.string().transform((text) => text.split(',').map((s) => s.trim()));
const argsSchema = z.object({
  runs: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1000),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(() => Date.now() % 2 ** 31),
  only: list
    .pipe(z.array(z.enum(Object.keys(PROPERTIES), { error: 'is not a property' })))
    .default(Object.keys(PROPERTIES)),
  path: z.string().optional(),
  allow: list.default([]),
  help: z.boolean().default(false),
});

function options() {
  const values = readArgs(
    {
      runs: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      path: { type: 'string' },
      allow: { type: 'string' },
      help: { type: 'boolean' },
    },
    argsSchema,
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return values;
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
