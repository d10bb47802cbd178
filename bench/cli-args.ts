import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';

/**
 * The options of a bench command, checked: an unknown option, a missing value or a bad one is
 * one line naming the option, then the usage, and exit code 2; never a stack trace.
 */
export function readArgs<S extends z.ZodType>(
  options: NonNullable<ParseArgsConfig['options']>,
  schema: S,
  usage: string,
): z.output<S> {
  let values: unknown;
  try {
    ({ values } = parseArgs({ options, args: process.argv.slice(2) }));
  } catch (err) {
    return refuse([err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)], usage);
  }
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  return refuse(
    parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`),
    usage,
  );
}

function refuse(problems: string[], usage: string): never {
  for (const problem of problems) console.error(problem);
  console.error(usage);
  process.exit(2);
}
