import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConformanceReport, conformanceReportSchema } from './report.js';

/** `conformance-<stamp>.json|txt`: the stamp sorts as the time it was written. */
export const REPORT_NAME = /^conformance-(\d{8}T\d{6}(?:\.\d{3})?Z)\.(json|txt)$/;

/**
 * The largest report the console reads (20 MiB): a run writes a few hundred kB; a bigger file
 * would hold the event loop for every view of the page.
 */
export const MAX_REPORT_BYTES = 20 * 1024 * 1024;

export type LastReport =
  | { ok: true; file: string; report: ConformanceReport }
  /** The newest report exists but cannot be read (or was written by another version). */
  | { ok: false; file: string; problem: string };

/** The last report read, by path and by what its file was then: read again only once it changed. */
let cached: { key: string; result: LastReport } | null = null;

/**
 * Never follows a link (the page would show what any file the gateway can read begins with) and
 * never waits on a FIFO (the open returns at once; it is then refused as not a regular file).
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * The newest JSON report in `dir` (CONFORMANCE_DIR), for the console: null when there is none
 * (or no such directory). Only a regular file of at most MAX_REPORT_BYTES is read; what it
 * holds is never echoed in a problem.
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
  const refused = (problem: string): LastReport => ({ ok: false, file, problem });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      return refused('a symbolic link, not a report: the console reads regular files only');
    if (code === 'ENOENT') return null;
    return refused(`cannot be opened (${code ?? 'error'})`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return refused('not a regular file: the console reads regular files only');
    if (stat.size > MAX_REPORT_BYTES)
      return refused(
        `too large to show here (${stat.size} bytes, more than ${MAX_REPORT_BYTES}): read it with a text editor`,
      );
    const key = `${file}\u0000${stat.dev}:${stat.ino}\u0000${stat.mtimeMs}\u0000${stat.size}`;
    if (cached?.key === key) return cached.result;
    const result = parseReport(file, await handle.readFile('utf8'));
    cached = { key, result };
    return result;
  } finally {
    await handle.close();
  }
}

function parseReport(file: string, text: string): LastReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never the parser's message: it quotes the file's first bytes.
    return { ok: false, file, problem: 'not valid JSON' };
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
