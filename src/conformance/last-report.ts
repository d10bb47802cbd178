import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConformanceReport, conformanceReportSchema } from './report.js';

/** `conformance-<stamp>.json|txt`: the stamp sorts as the time it was written. */
export const REPORT_NAME = /^conformance-(\d{8}T\d{6}(?:\.\d{3})?Z)\.(json|txt)$/;

export type LastReport =
  | { ok: true; file: string; report: ConformanceReport }
  /** The newest report exists but cannot be read (or was written by another version). */
  | { ok: false; file: string; problem: string };

/**
 * The newest JSON report in `dir` (CONFORMANCE_DIR), for the console: null when there is none
 * (or no such directory).
 */
export async function lastConformanceReport(dir: string): Promise<LastReport | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const newest = names
    .filter((n) => REPORT_NAME.exec(n)?.[2] === 'json')
    .sort()
    .at(-1);
  if (!newest) return null;
  const file = join(dir, newest);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return { ok: false, file, problem: `not readable JSON: ${(err as Error).message}` };
  }
  const parsed = conformanceReportSchema.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      file,
      problem: `not a conformance report this version reads: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    };
  return { ok: true, file, report: parsed.data };
}
