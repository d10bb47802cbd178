import { stringify } from 'yaml';
import { describeMitra, MITRA_DEVELOPMENT_URL } from '../config/env.js';
import type { LastReport } from '../conformance/last-report.js';
import type { ConformanceReport, Fix } from '../conformance/report.js';
import {
  CONTACT_ENDPOINTS,
  type ContactSnapshot,
  ENDPOINT_PATHS,
  type EndpointContact,
  type FailureContact,
} from '../razer/contact.js';
import { differences, type Readings, readingsVersion } from '../readings/settings.js';

/**
 * The Go live page's data (issue 23 §3, §4): the last conformance report (Mitra side), the
 * readings in force, and what was seen of Razer. goLiveView is pure; gatherGoLive asks the
 * sources. Rendering is pages/go-live.tsx.
 */

export const VERDICTS = ['confirmed', 'contradicted', 'not observed'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface GoLiveDeps {
  /** The newest report `gateway conformance` saved (lastConformanceReport), null when none yet. */
  lastConformance: () => Promise<LastReport | null>;
  /** Where reports are saved (CONFORMANCE_DIR). */
  conformanceDir: string;
  /** READINGS_FILE, resolved. */
  readingsFile: string;
  readings: () => Readings;
  razerContact: () => ContactSnapshot;
}

/** A value on one line, as YAML writes it in flow style. */
export const flowYaml = (value: unknown): string =>
  stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();

/** A difference as the log, `gateway check` and the report name it: `path: json`. */
export const differenceLine = (d: { path: string; value: unknown }) =>
  `${d.path}: ${JSON.stringify(d.value)}`;

export const EXIT_MEANING: Record<ConformanceReport['exitCode'], string> = {
  0: 'nothing contradicted',
  1: 'something contradicted',
  2: 'the run could not complete',
};

export interface FixView {
  yaml: string;
  /** False: the guard rails refuse it (the gateway would not start with it), for these reasons. */
  accepted: boolean;
  refusedBecause: string[];
  caution: string | null;
}

export interface ReadingResult {
  /** The setting judged, as the readings file spells it (mitra.order_status.failed). */
  setting: string;
  /** The reading in force when the report was made. */
  reading: string;
  verdict: Verdict;
  /** What was seen, one fact a line (the supplier's text: shown as text only). */
  evidence: string[];
  /** Not observed: why; contradicted without a fix: why none. */
  why: string | null;
  fix: FixView | null;
}

export interface ReportView {
  /** The report's file in CONFORMANCE_DIR: the whole run (every exchange) is there. */
  file: string;
  finishedAt: number | null;
  finishedText: string;
  url: string;
  host: string;
  development: boolean;
  exit: number;
  exitMeaning: string;
  /** The readings file the run used, and what differed in it from the defaults then. */
  readingsFile: string;
  readingsThen: string[];
  /** The readings in force differ from those the report judged. */
  stale: boolean;
  problems: string[];
  readings: ReadingResult[];
  combinedFix: FixView | null;
}

const fixView = (f: Fix | null): FixView | null =>
  f && { yaml: f.yaml, accepted: f.accepted, refusedBecause: f.refusedBecause, caution: f.caution };

/** The report as the page shows it; `now` are the differences in force, to tell a stale report. */
export function reportView(
  r: ConformanceReport,
  file: string,
  differencesNow: readonly string[],
): ReportView {
  const at = Date.parse(r.finishedAt);
  const then = [...r.readings.differences].sort();
  const now = [...differencesNow].sort();
  return {
    file,
    finishedAt: Number.isNaN(at) ? null : at,
    finishedText: r.finishedAt,
    url: r.mitra.url,
    host: r.mitra.host,
    development: describeMitra(r.mitra.url) === 'development',
    exit: r.exitCode,
    exitMeaning: EXIT_MEANING[r.exitCode],
    readingsFile: r.readings.file,
    readingsThen: r.readings.differences,
    stale: JSON.stringify(then) !== JSON.stringify(now),
    problems: r.problems,
    readings: r.findings.map((f) => ({
      setting: f.id,
      reading: f.reading,
      verdict: f.verdict === 'not-observed' ? 'not observed' : f.verdict,
      evidence: f.evidence,
      why: f.why,
      fix: fixView(f.fix),
    })),
    combinedFix: fixView(r.combinedFix),
  };
}

export interface MitraSide {
  /** Null until a first report is saved: the page then says how to run one. */
  report: ReportView | null;
  /** The report could not be read: why (the rest of the page still shows). */
  error: string | null;
  counts: Record<Verdict, number>;
  conformanceDir: string;
  developmentUrl: string;
}

export interface ReadingsSide {
  file: string;
  version: string;
  differences: { path: string; value: string; default: string }[];
}

/** A refused request as the contact record keeps it. */
export type RazerFailure = FailureContact;

export interface RazerEndpoint extends EndpointContact {
  path: string;
  /** Kept failed verifications of this endpoint, newest first. */
  failures: RazerFailure[];
}

export interface RazerSide {
  endpoints: RazerEndpoint[];
  verified: number;
  /** Every kept failed verification, newest first. */
  failures: RazerFailure[];
  skippedDiagnoses: number;
  /** Refused requests that carried no X-Razer-Signature header: counted only (noise, or a proxy dropping it). */
  unsigned: number;
}

export interface GoLiveView {
  mitra: MitraSide;
  readings: ReadingsSide;
  razer: RazerSide;
}

export interface GoLiveInput {
  report: { file: string; report: ConformanceReport } | null;
  reportError: string | null;
  conformanceDir: string;
  readingsFile: string;
  readings: Readings;
  contact: ContactSnapshot;
}

export function goLiveView(input: GoLiveInput): GoLiveView {
  const version = readingsVersion(input.readings);
  const inForce = differences(input.readings);
  const report =
    input.report && reportView(input.report.report, input.report.file, inForce.map(differenceLine));
  const counts: Record<Verdict, number> = { confirmed: 0, contradicted: 0, 'not observed': 0 };
  for (const r of report?.readings ?? []) counts[r.verdict]++;
  const failures = [...input.contact.failures].reverse();
  const endpoints = CONTACT_ENDPOINTS.map((name): RazerEndpoint => {
    const seen = input.contact.endpoints.find((e) => e.name === name);
    return {
      name,
      firstVerifiedAt: seen?.firstVerifiedAt ?? null,
      mode: seen?.mode ?? null,
      apiId: seen?.apiId ?? null,
      hexCase: seen?.hexCase ?? null,
      path: ENDPOINT_PATHS[name],
      failures: failures.filter((f) => f.endpoint === name),
    };
  });
  return {
    mitra: {
      report,
      error: input.reportError,
      counts,
      conformanceDir: input.conformanceDir,
      developmentUrl: MITRA_DEVELOPMENT_URL,
    },
    readings: {
      file: input.readingsFile,
      version,
      differences: inForce.map((d) => ({
        path: d.path,
        value: flowYaml(d.value),
        default: flowYaml(d.default),
      })),
    },
    razer: {
      endpoints,
      verified: endpoints.filter((e) => e.firstVerifiedAt !== null).length,
      failures,
      skippedDiagnoses: input.contact.skippedDiagnoses,
      unsigned: input.contact.unsigned,
    },
  };
}

/** Gathers the page's inputs; a report that cannot be read is said on the page, not a 500. */
export async function gatherGoLive(deps: GoLiveDeps): Promise<GoLiveView> {
  let report: GoLiveInput['report'] = null;
  let reportError: string | null = null;
  try {
    const last = await deps.lastConformance();
    if (last?.ok) report = { file: last.file, report: last.report };
    else if (last) reportError = `${last.file}: ${last.problem}`;
  } catch (err) {
    reportError = err instanceof Error ? err.message : String(err);
  }
  return goLiveView({
    report,
    reportError,
    conformanceDir: deps.conformanceDir,
    readingsFile: deps.readingsFile,
    readings: deps.readings(),
    contact: deps.razerContact(),
  });
}
