import { differences, type Readings } from '../readings/settings.js';
import { combineFixes, NOT_CORROBORATED } from './fix.js';
import { catalogueBlocked, judge } from './judge/index.js';
import {
  type ConformanceReport,
  type Finding,
  type Fix,
  type Observations,
  REPORT_VERSION,
} from './report.js';

/** The report: the judgement of the observations, its exit code, and its text. Pure. */

export interface ReportInput {
  startedAt: number;
  finishedAt: number;
  mitra: { url: string; host: string };
  storage: string;
  readingsFile: string;
  readings: Readings;
  observations: Observations;
  /** What kept the run from completing (exit 2), or what limited it. */
  problems: string[];
  /** The run could not complete: exit 2 whatever was judged. */
  incomplete: boolean;
}

export function buildReport(input: ReportInput): ConformanceReport {
  const findings = judge(input.observations, input.readings);
  const count = (v: Finding['verdict']) => findings.filter((f) => f.verdict === v).length;
  const contradicted = count('contradicted');
  const fixes = findings.flatMap((f) => (f.fix ? [f.fix] : []));
  // Without the brand list nothing was tested: never a pass, whatever the findings say.
  const blocked = catalogueBlocked(input.observations);
  const incomplete = input.incomplete || blocked !== null;
  const problems = blocked && !input.incomplete ? [...input.problems, blocked] : input.problems;
  return {
    version: REPORT_VERSION,
    startedAt: new Date(input.startedAt).toISOString(),
    finishedAt: new Date(input.finishedAt).toISOString(),
    mitra: input.mitra,
    storage: input.storage,
    readings: {
      file: input.readingsFile,
      differences: differences(input.readings).map((d) => `${d.path}: ${JSON.stringify(d.value)}`),
    },
    exitCode: incomplete ? 2 : contradicted > 0 ? 1 : 0,
    summary: { confirmed: count('confirmed'), contradicted, notObserved: count('not-observed') },
    findings,
    combinedFix: combineFixes(fixes, input.readings),
    problems,
    observations: input.observations,
  };
}

const VERDICT_TEXT: Record<Finding['verdict'], string> = {
  confirmed: 'confirmed',
  contradicted: 'CONTRADICTED',
  'not-observed': 'not observed',
};

const indent = (text: string, by: string) =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n');

function fixLines(fix: Fix, file: string): string[] {
  const unsure = fix.refusedBecause.filter((r) => r.startsWith(NOT_CORROBORATED));
  const rails = fix.refusedBecause.filter((r) => !r.startsWith(NOT_CORROBORATED));
  const state = fix.accepted
    ? 'passes the guard rails'
    : [
        ...(unsure.length ? [`NOT ACCEPTED, ${unsure.join('; ')}`] : []),
        ...(rails.length ? [`REFUSED by the guard rails: ${rails.join('; ')}`] : []),
      ].join('; ');
  return [
    `merge into ${file} (${state}):`,
    indent(fix.yaml, '  '),
    ...(fix.caution ? [`caution: ${fix.caution}`] : []),
  ];
}

/** The findings, their fixes, and what limited the run: what the operator reads first. */
export function renderSummary(report: ConformanceReport): string {
  const s = report.summary;
  const lines = [
    `gateway conformance against ${report.mitra.url} (${report.mitra.host}), ${report.startedAt} to ${report.finishedAt}`,
    `readings: ${report.readings.file}: ${
      report.readings.differences.length === 0
        ? 'every default'
        : `${report.readings.differences.length} setting(s) differ from the defaults (${report.readings.differences.join('; ')})`
    }`,
    `result: exit ${report.exitCode}: ${s.contradicted} contradicted, ${s.confirmed} confirmed, ${s.notObserved} not observed`,
    ...report.problems.map((p) => `problem: ${p}`),
    '',
  ];
  for (const f of report.findings) {
    lines.push(
      `${VERDICT_TEXT[f.verdict].padEnd(13)}${f.id}${f.verdict === 'not-observed' && f.why ? `: ${f.why}` : ''}`,
    );
    if (f.verdict === 'contradicted') lines.push(`    reading: ${f.reading}`);
    for (const e of f.evidence) lines.push(`    - ${e}`);
    if (f.verdict === 'contradicted' && f.why) lines.push(`    no fix: ${f.why}`);
    if (f.fix) lines.push(...fixLines(f.fix, report.readings.file).map((l) => indent(l, '    ')));
  }
  if (report.combinedFix && report.findings.filter((f) => f.fix).length > 1) {
    lines.push('', 'every fix at once:');
    lines.push(...fixLines(report.combinedFix, report.readings.file).map((l) => indent(l, '  ')));
  }
  return lines.join('\n');
}

/** The whole report as text: the summary, then every order, webhook and exchange, for Mitra's support. */
export function renderText(report: ConformanceReport): string {
  const o = report.observations;
  const lines = [renderSummary(report), '', 'orders:'];
  for (const r of o.orders) {
    const runs = r.polls.map((p) => (p.status === null ? '-' : String(p.status))).join(' ');
    const names = [...new Set(r.polls.flatMap((p) => p.historyNames))];
    lines.push(
      `  ${r.scenario}: ${r.brandKey}/${r.variationKey} IDR ${r.price} ref_id ${JSON.stringify(r.refId)} data ${JSON.stringify(r.data)}`,
      `    create-order: ${r.create.outcome}${r.create.rc ? ` rc ${r.create.rc}` : ''}${r.create.status ? ` ${r.create.status}` : ''} (HTTP ${r.create.httpStatus ?? 'none'})${r.create.trxCode ? ` trx ${r.create.trxCode}` : ''}${r.create.message ? `: ${r.create.message}` : ''}`,
    );
    if (r.createLookup)
      lines.push(
        `    asked by ref_id after the unclear create-order: ${r.createLookup.outcome}${r.createLookup.rc ? ` rc ${r.createLookup.rc}` : ''} (HTTP ${r.createLookup.httpStatus ?? 'none'})${r.createLookup.trxCode ? `: Mitra has it, trx ${r.createLookup.trxCode}` : ''}${r.createLookup.note ? `: ${r.createLookup.note}` : ''}`,
      );
    if (r.create.trxCode)
      lines.push(
        `    status by trx code: ${runs || 'never answered'}; history ${names.map((n) => JSON.stringify(n)).join(', ') || 'none'}`,
        `    ${r.ended ? 'ended' : 'did not end'}: ${r.endedWhy}`,
        ...foundLines(r),
        `    status by ref_id: ${r.byRef ? `${r.byRef.outcome}${r.byRef.rc ? ` rc ${r.byRef.rc}` : ''} (HTTP ${r.byRef.httpStatus ?? 'none'})${r.byRef.sameOrder ? ', the same order' : ''}` : 'not asked'}`,
      );
  }
  for (const s of o.skipped) lines.push(`  ${s.scenario}: not sent: ${s.why}`);
  lines.push('', o.balance.length === 0 ? 'balance: no call' : 'balance:');
  for (const b of o.balance)
    lines.push(
      `  ${b.configured ? 'configured' : 'alternative'} ${b.path} (word ${JSON.stringify(b.word)}): ${b.outcome}${b.rc ? ` rc ${b.rc}` : ''} (HTTP ${b.httpStatus ?? 'none'})`,
    );
  lines.push(
    '',
    `webhooks (${o.webhooks.via}, waited ${o.webhooks.waitedSeconds} s): ${o.webhooks.items.length}`,
  );
  for (const w of o.webhooks.items)
    lines.push(
      `  ${w.receivedAt} from ${w.source}${w.allowedSource ? '' : ' (not in MITRA_WEBHOOK_ALLOW_IPS)'}: names ${w.names.join(', ') || 'none of ours'}; read as ${w.readAs.kind}${w.readAs.refs.length ? ` ${w.readAs.refs.join(', ')}` : ''}${w.readAs.why ? ` (${w.readAs.why})` : ''}`,
      `    headers ${JSON.stringify(w.headers)}`,
      `    body ${w.body}`,
    );
  lines.push('', `exchanges: ${o.exchanges.length}`);
  for (const e of o.exchanges) {
    // As sent, but readable: `sign=[redacted]`, not its percent-escaped form.
    const query = Object.entries(e.query)
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    lines.push(
      `  ${e.at} ${e.step}: ${e.method} ${e.path}${query ? `?${query}` : ''}${e.requestBody !== null ? ` ${e.requestBody}` : ''}`,
      `    → ${e.httpStatus === null ? `no reply (${e.error ?? 'unknown'})` : `HTTP ${e.httpStatus} ${e.replyBody ?? ''}`} [${e.outcome}${e.rc ? ` rc ${e.rc}` : ''}, ${e.durationMs} ms]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Where the code or the reason was found, for an order that ended delivered, or failed. */
function foundLines(r: ConformanceReport['observations']['orders'][number]): string[] {
  const f = r.found;
  const where = (path: string, read: boolean) =>
    read ? path : `${path} (a search found it; the readings did not)`;
  return [
    ...(f.voucherAt ? [`    code at ${where(f.voucherAt, f.voucherRead)}`] : []),
    ...(f.reasonAt ? [`    reason at ${where(f.reasonAt, f.reasonRead)}`] : []),
  ];
}

/** `20250102T030405.678Z`: ISO 8601 (basic), sortable, without the colons some tools split on. */
export const reportStamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '');
