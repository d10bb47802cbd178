import fc from 'fast-check';
import { type FuzzGateway, type Snapshot, startFuzzGateway } from './harness.js';
import { type RawRequest, type RawResponse, refusedBeforeApp } from './http.js';
import { parseObject } from './oracles.js';

/**
 * Runs a property with fast-check and reports it: request properties share one in-process
 * gateway across their runs; pure ones call a function. A check returns a problem (a sentence)
 * or null; a problem tagged `[tag]` that the run allows (`--allow tag`, a known finding being
 * fixed) is counted instead of failing the run, so that the search goes on past it.
 */
export interface PropertyOptions {
  runs: number;
  seed: number;
  /** fast-check's path of a failure, to replay it. */
  path?: string | undefined;
  /** Tags of known findings counted rather than failed on. */
  allow?: readonly string[] | undefined;
}

export interface PropertyReport {
  name: string;
  runs: number;
  /** Runs whose request Node's own parser would refuse before the app (not sent). */
  skipped: number;
  failures: number;
  ms: number;
  seed: number;
  /** fast-check's report of the failure (with its seed and path), else null. */
  failure: string | null;
  /** How the runs were answered (`200`, `400 INVALID_DATA`, ..., `state changed`), most frequent first. */
  answers: [string, number][];
}

export type Property = (options: PropertyOptions) => Promise<PropertyReport>;

/** A problem found in one run: the run fails with it. */
class Finding extends Error {}

/** A problem of a known kind, named so that `--allow` can name it. */
export const tagged = (tag: string, problem: string): string => `[${tag}] ${problem}`;

/** Null when the problem is allowed (and counted), else the problem. */
function judged(problem: string | null, o: PropertyOptions, count: (what: string) => void): string | null {
  const tag = problem === null ? undefined : /^\[([^\]]+)\] /.exec(problem)?.[1];
  if (tag === undefined || !o.allow?.includes(tag)) return problem;
  count(`allowed [${tag}]`);
  return null;
}

function describe(req: RawRequest, res: RawResponse | null): string {
  const body = req.body ? Buffer.from(req.body) : Buffer.alloc(0);
  const shown =
    body.length > 300
      ? `${JSON.stringify(body.subarray(0, 300).toString('latin1'))}... (${body.length} bytes)`
      : JSON.stringify(body.toString('latin1'));
  const headers = req.headers.map(
    ([k, v]) => `${k}: ${v.length > 120 ? `${v.slice(0, 120)}... (${v.length})` : v}`,
  );
  return [
    `request: ${req.method} ${req.target.length > 300 ? `${req.target.slice(0, 300)}...` : req.target} from ${req.remoteAddress}${req.chunked ? ' (chunked)' : ''}`,
    `headers: ${JSON.stringify(headers)}`,
    `body: ${shown}`,
    res ? `answer: ${res.status} ${res.text.slice(0, 300)}` : 'no answer',
  ].join('\n');
}

/** fast-check's report (seed, path, counterexample) and the error the run ended with. */
function failureText(details: fc.RunDetails<unknown>): string {
  const error =
    details.errorInstance instanceof Error
      ? details.errorInstance.message
      : String(details.errorInstance ?? '');
  return `${fc.defaultReportMessage(details) ?? 'failed'}\n${error}`;
}

function report(
  name: string,
  o: PropertyOptions,
  details: fc.RunDetails<unknown>,
  skipped: number,
  ms: number,
  tally: ReadonlyMap<string, number> = new Map(),
): PropertyReport {
  return {
    answers: [...tally].sort((a, b) => b[1] - a[1]),
    name,
    runs: details.numRuns,
    skipped,
    failures: details.failed ? 1 : 0,
    ms,
    seed: o.seed,
    failure: details.failed ? failureText(details) : null,
  };
}

const params = (o: PropertyOptions): fc.Parameters<unknown> => ({
  numRuns: o.runs,
  seed: o.seed,
  ...(o.path ? { path: o.path } : {}),
});

export interface Built {
  request: RawRequest;
}

/** What one request's check sees. */
export interface Seen<B> {
  h: FuzzGateway;
  built: B;
  res: RawResponse;
  before: Snapshot;
  after: Snapshot;
}

/**
 * A property over requests to one gateway shared by every run: pools of open transactions kept
 * filled, the whole database's invariants checked every 1000 runs and at the end.
 */
export function requestProperty<P, B extends Built>(
  name: string,
  plan: fc.Arbitrary<P>,
  build: (plan: P, h: FuzzGateway) => B,
  check: (seen: Seen<B>) => string | null | Promise<string | null>,
): Property {
  return async (o) => {
    const started = performance.now();
    const h = await startFuzzGateway(name);
    let skipped = 0;
    let run = 0;
    const tally = new Map<string, number>();
    const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);
    const invariants = async () => {
      const problems = await h.invariantProblems();
      if (problems.length > 0) throw new Finding(`invariants broken:\n${problems.slice(0, 10).join('\n')}`);
    };
    try {
      const details = await fc.check(
        fc.asyncProperty(plan, async (p) => {
          run++;
          if (run % 50 === 0) await h.replenish();
          if (run % 1000 === 0) await invariants();
          const built = build(p, h);
          if (refusedBeforeApp(built.request) !== null) {
            skipped++;
            return;
          }
          const before = await h.snapshot();
          let res: RawResponse | null = null;
          try {
            res = await h.send(built.request);
            await h.settle();
            const after = await h.snapshot();
            const answer = res.status >= 400 ? parseObject(res.text) : null;
            const code = typeof answer?.code === 'string' ? ` ${answer.code}` : '';
            const large =
              res.status === 413 || /larger than/.test(String(answer?.message)) ? ' (too large)' : '';
            count(`${res.status}${code}${large}`);
            if (after.state !== before.state) count('state changed');
            const problem = judged(await check({ h, built, res, before, after }), o, count);
            if (problem) throw new Finding(problem);
          } catch (err) {
            const why =
              err instanceof Finding ? err.message : `threw: ${(err as Error)?.stack ?? String(err)}`;
            throw new Finding(`${why}\n${describe(built.request, res)}`);
          }
        }),
        params(o),
      );
      if (!details.failed) await invariants();
      return report(name, o, details, skipped, performance.now() - started, tally);
    } catch (err) {
      const details = { failed: true, numRuns: run } as fc.RunDetails<unknown>;
      const r = report(name, o, details, skipped, performance.now() - started, tally);
      return { ...r, failure: err instanceof Error ? err.message : String(err) };
    } finally {
      await h.close();
    }
  };
}

/** The first problem of a list of checks, or null. */
export const first = (...problems: (string | null | false)[]): string | null =>
  problems.find((p): p is string => typeof p === 'string') ?? null;

/** An exception out of a function that returns its errors: a finding, named by its type. */
export function threw(what: string, err: unknown): string {
  const e = err as Error;
  const type = e?.constructor?.name ?? typeof err;
  return tagged(`${what}:${type}`, `${what} threw ${type}: ${e?.message ?? String(err)}`);
}

export function pureProperty<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  check: (value: T) => string | null,
): Property {
  return async (o) => {
    const started = performance.now();
    const tally = new Map<string, number>();
    const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);
    const details = await fc.check(
      fc.asyncProperty(arb, async (value) => {
        const problem = judged(check(value), o, count);
        if (problem) throw new Finding(problem);
      }),
      params(o),
    );
    return report(name, o, details, 0, performance.now() - started, tally);
  };
}
