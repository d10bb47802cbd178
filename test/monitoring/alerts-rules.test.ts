import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CONDITION_KINDS } from '../../src/admin/alerts.js';
import { ENDPOINTS, OPERATIONS, OUTCOMES, WAITING_STATES, WEBHOOK_RESULTS } from '../../src/admin/metrics.js';
import { TRANSACTION_STATES } from '../../src/db/vocabulary.js';
import { REFUSAL_REASONS } from '../../src/fulfilment/refusal.js';
import { ROOT, tool } from '../deploy/tools.js';
import { type TempDir, tempDir } from '../helpers/storage.js';
import { matchers, selectors } from './prometheus.js';

// The shipped Prometheus rules (config/monitoring/alerts.yml) under Debian's promtool: they load,
// their unit tests (config/monitoring/alerts.test.yml) pass and can fail, every alert has a case
// that fires and one that resolves, and what the rules name (metrics, label values, console pages,
// `gateway` commands) is what the gateway has.

const MONITORING = join(ROOT, 'config', 'monitoring');
const RULES = join(MONITORING, 'alerts.yml');
const TESTS = join(MONITORING, 'alerts.test.yml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface ExpAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
interface AlertCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: ExpAlert[] | null;
}
interface TestGroup {
  name?: string;
  interval?: string;
  input_series: { series: string; values: string }[];
  alert_rule_test?: AlertCase[];
}
interface TestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: TestGroup[];
}

const rulesFile = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const testFile = parse(readFileSync(TESTS, 'utf8')) as TestFile;
const alerts = rulesFile.groups
  .flatMap((g) => g.rules)
  .filter((r): r is Rule & { alert: string } => !!r.alert);
const source = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const dirs: TempDir[] = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(tool('promtool'), args, { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A Prometheus duration (`1h30m`, `90s`) in ms. */
function durationMs(text: string): number {
  const units: Record<string, number> = {
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
    y: 31_536_000_000,
  };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`not a duration: ${text}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * (units[unit ?? ''] ?? Number.NaN), 0);
}

/** A copy of alerts.test.yml in a temp dir, changed by `change`, reading the shipped rules. */
function changedTests(change: (file: TestFile) => void): string {
  const dir = tempDir('gateway-alerts-');
  dirs.push(dir);
  const copy = structuredClone(testFile);
  copy.rule_files = [RULES];
  change(copy);
  const path = dir.file('alerts.test.yml');
  writeFileSync(path, stringify(copy));
  return path;
}

/** The cases promtool reports as failed: `group|alertname|ms`. */
function failedCases(output: string): Set<string> {
  const failed = new Set<string>();
  for (const m of output.matchAll(/name: (.*),\n\s*alertname: (\S+), time: (\S+),/g))
    failed.add(`${m[1]}|${m[2]}|${durationMs(m[3] ?? '')}`);
  return failed;
}

const caseKey = (group: TestGroup, c: AlertCase) => `${group.name}|${c.alertname}|${durationMs(c.eval_time)}`;
const fires = (c: AlertCase) => (c.exp_alerts ?? []).length > 0;

// ---------------------------------------------------------------- PromQL, read coarsely

/** The aggregation a selector sits directly in (`max without (instance) (sel...)`), if any. */
function enclosingAggregation(expr: string, at: number): string | null {
  const m = /\b([a-z_]+)\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(\s*$/.exec(expr.slice(0, at));
  return m?.[1] ?? null;
}

// ---------------------------------------------------------------- what the gateway has

/** The metric names src/admin/metrics.ts registers. */
function registeredMetrics(): Set<string> {
  const text = source('src/admin/metrics.ts');
  const names = [...text.matchAll(/\bname: '([a-z_:][a-z0-9_:]*)'/g)].map((m) => m[1] ?? '');
  const histograms = [...text.matchAll(/new Histogram\(\{\s*name: '([a-z0-9_]+)'/g)].map((m) => m[1] ?? '');
  return new Set([
    ...names,
    ...histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
    // Prometheus's own, per target.
    'up',
  ]);
}

/** The values a bounded label can take, from the gateway's own lists. */
function vocabularies(): Record<string, (value: string) => boolean> {
  const lanes = /const LANES: readonly Lane\[\] = \[([^\]]*)\]/.exec(source('src/admin/metrics.ts'))?.[1];
  const laneList = [...(lanes ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
  const among = (list: readonly (string | undefined)[]) => (v: string) => list.includes(v);
  return {
    endpoint: among([...ENDPOINTS, 'other']),
    operation: among([...OPERATIONS, 'other']),
    outcome: among([...OUTCOMES, 'other']),
    result: among([...WEBHOOK_RESULTS, 'other']),
    kind: among(CONDITION_KINDS),
    reason: among([...REFUSAL_REASONS, 'other']),
    lane: among(laneList),
    // gateway_transactions{state} has every state; gateway_oldest_open_seconds the waiting ones.
    state: among([...TRANSACTION_STATES, ...WAITING_STATES]),
    status: (v) => v === 'other' || (/^\d{3}$/.test(v) && Number(v) >= 100 && Number(v) <= 599),
    choice: (v) => /^(?:main|backup\d+)$/.test(v),
  };
}

/** The console's pages (paths under /console, `:param` for a path parameter). */
function consolePages(): RegExp[] {
  return [...source('src/console/routes.tsx').matchAll(/app\.get\('([^']+)'/g)].map(
    (m) => new RegExp(`^/console${(m[1] ?? '').replace(/:[A-Za-z]+/g, '[^/]+').replace(/\/$/, '')}$`),
  );
}

/** Each `gateway` command's usage text: `check`, `balance`, `tx list`, ... */
function commandUsages(): Map<string, string> {
  const usages = new Map<string, string>();
  const run = source('src/cli/run.ts');
  const known = new Set([...run.matchAll(/^ {2}([a-z][a-z-]*): \(/gm)].map((m) => m[1]));
  const usage = /const USAGE = `([\s\S]*?)`;/.exec(run)?.[1] ?? '';
  // An entry: its line (two spaces, the command) and the more indented lines under it.
  for (const m of usage.matchAll(/^ {2}([a-z][a-z-]*)\b.*(?:\n {3,}.*)*/gm))
    if (m[1] && known.has(m[1])) usages.set(m[1], m[0]);
  const tx = /export const TX_USAGE = `([\s\S]*?)`;/.exec(source('src/cli/tx.ts'))?.[1] ?? '';
  for (const m of tx.matchAll(/gateway tx ([a-z]+)[\s\S]*?(?=gateway tx |$)/g))
    if (m[1] && known.has('tx')) usages.set(`tx ${m[1]}`, m[0]);
  return usages;
}

/** What a runbook line names that is not there: console pages, filters, commands and flags. */
function runbookProblems(runbook: string): string[] {
  const problems: string[] = [];
  const text = runbook.replace(/\{\{[^}]*\}\}/g, 'TEMPLATE');
  const states: readonly string[] = TRANSACTION_STATES;
  const stateList = (value: string) =>
    value === 'TEMPLATE' || value.split(',').every((s) => states.includes(s));
  const filters = [
    ...(
      /export const FILTERS = \[([^\]]*)\]/.exec(source('src/console/pages/transactions.tsx'))?.[1] ?? ''
    ).matchAll(/'([^']+)'/g),
  ].map((m) => m[1]);
  const pages = consolePages();
  for (const m of text.matchAll(/\/console(?:\/[A-Za-z0-9_<>/-]*)?(?:\?[^\s,;)`]*)?/g)) {
    const [path = '', query] = m[0].split('?');
    if (!pages.some((p) => p.test(path.replace(/\/$/, '')))) problems.push(`no console page ${path}`);
    for (const [name, value] of new URLSearchParams(query ?? '')) {
      if (path !== '/console/transactions' || !filters.includes(name))
        problems.push(`${path}: no filter ${name}`);
      if (name === 'state' && !stateList(value)) problems.push(`${path}: no state ${value}`);
      if (name === 'attention' && !['true', 'false'].includes(value))
        problems.push(`${path}: attention=${value}`);
    }
  }
  const usages = commandUsages();
  for (const m of text.matchAll(/`gateway ([^`]+)`/g)) {
    const words = (m[1] ?? '').split(/\s+/);
    const command = words[0] === 'tx' ? `tx ${words[1]}` : (words[0] ?? '');
    const usage = usages.get(command);
    if (!usage) {
      problems.push(`no command gateway ${command}`);
      continue;
    }
    words.forEach((word, i) => {
      if (!word.startsWith('--')) return;
      if (!new RegExp(`${word}\\b`).test(usage)) problems.push(`gateway ${command}: no option ${word}`);
      if (word === '--state' && !stateList(words[i + 1] ?? ''))
        problems.push(`gateway ${command}: --state ${words[i + 1]}`);
    });
  }
  return problems;
}

// ---------------------------------------------------------------- the tests

describe('config/monitoring/alerts.yml under promtool', () => {
  it('promtool check rules accepts it, every rule counted', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.status, r.output).toBe(0);
    const count = rulesFile.groups.reduce((n, g) => n + g.rules.length, 0);
    expect(r.output).toContain(`SUCCESS: ${count} rules found`);
  });

  it('promtool test rules passes alerts.test.yml, which reads the shipped rules', () => {
    expect(testFile.rule_files).toEqual(['alerts.yml']);
    const r = promtool('test', 'rules', TESTS);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('fails when one expected alert is changed', () => {
    const path = changedTests((file) => {
      const firing = file.tests.flatMap((g) => g.alert_rule_test ?? []).find(fires);
      const expected = firing?.exp_alerts?.[0];
      if (!expected?.exp_labels) throw new Error('no firing case');
      expected.exp_labels.severity = expected.exp_labels.severity === 'critical' ? 'warning' : 'critical';
    });
    const r = promtool('test', 'rules', path);
    expect(r.status, r.output).toBe(1);
    expect(r.output).toContain('FAILED');
  });

  it('fails on every case when each is changed: none passes whatever the rules do', () => {
    // A firing case expects another severity; a quiet one (before `for`, after recovery) expects
    // the alert its group fires. promtool must report every one of them.
    const path = changedTests((file) => {
      for (const group of file.tests) {
        const cases = group.alert_rule_test ?? [];
        for (const c of cases) {
          if (fires(c)) {
            for (const e of c.exp_alerts ?? []) e.exp_labels = { ...e.exp_labels, severity: 'changed' };
          } else {
            const firing = cases.find((other) => other.alertname === c.alertname && fires(other));
            c.exp_alerts = firing?.exp_alerts ?? [{ exp_labels: { severity: 'changed' } }];
          }
        }
      }
    });
    const r = promtool('test', 'rules', path);
    expect(r.status, r.output).toBe(1);
    const expected = testFile.tests.flatMap((g) => (g.alert_rule_test ?? []).map((c) => caseKey(g, c)));
    expect(expected.length).toBeGreaterThan(0);
    expect([...failedCases(r.output)].sort()).toEqual([...new Set(expected)].sort());
  });
});

describe('config/monitoring/alerts.yml: what every alert carries', () => {
  it('has alerts, each named Gateway..., with a for, a severity, a summary and a one-line runbook', () => {
    expect(alerts.length).toBeGreaterThan(20);
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size, 'alert names are unique').toBe(names.length);
    for (const a of alerts) {
      expect(a.alert, a.alert).toMatch(/^Gateway[A-Z][A-Za-z]+$/);
      expect(a.for, `${a.alert}: for`).toMatch(/^(?:\d+[smh])+$/);
      expect(durationMs(a.for ?? ''), `${a.alert}: for`).toBeGreaterThanOrEqual(60_000);
      expect(['critical', 'warning', 'info'], `${a.alert}: severity`).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.trim(), `${a.alert}: summary`).toBeTruthy();
      const runbook = a.annotations?.runbook ?? '';
      expect(runbook.trim(), `${a.alert}: runbook`).toBeTruthy();
      expect(runbook, `${a.alert}: runbook on one line`).not.toContain('\n');
      expect(runbook, `${a.alert}: a console page, a gateway command or the log`).toMatch(
        /\/console|`gateway |`journalctl -u razer-gateway|prometheus\.yml/,
      );
    }
  });

  it('every alert has a case that fires and, later in the same series, one where it is gone', () => {
    const names = new Set(alerts.map((a) => a.alert));
    const missing: string[] = [];
    for (const name of names) {
      const covered = testFile.tests.some((group) => {
        const cases = (group.alert_rule_test ?? []).filter((c) => c.alertname === name);
        const firing = cases.filter(fires).map((c) => durationMs(c.eval_time));
        const quiet = cases.filter((c) => !fires(c)).map((c) => durationMs(c.eval_time));
        return firing.some((t) => quiet.some((q) => q > t));
      });
      if (!covered) missing.push(name);
    }
    expect(missing, 'alerts without a firing and a resolving case').toEqual([]);
    const unknown = testFile.tests
      .flatMap((g) => g.alert_rule_test ?? [])
      .filter((c) => !names.has(c.alertname));
    expect(
      unknown.map((c) => c.alertname),
      'cases of alerts the rules do not have',
    ).toEqual([]);
  });

  it('every metric an alert reads is one the gateway registers, or up', () => {
    // The reading of PromQL: functions, keywords, durations and numbers are not metrics.
    expect(
      selectors(
        'sum without (instance) (rate(foo_total{a="b"}[5m])) / on (job) bar offset 10m > 1e3 and hour() < 14',
      ).map((s) => s.metric),
    ).toEqual(['foo_total', 'bar']);
    const registered = registeredMetrics();
    // The two gauges the alerts were written for are there.
    expect(registered).toContain('gateway_ready');
    expect(registered).toContain('gateway_alert_active');
    const unknown = alerts.flatMap((a) =>
      selectors(a.expr)
        .map((s) => s.metric)
        .filter((m) => !registered.has(m))
        .map((m) => `${a.alert}: ${m}`),
    );
    expect(unknown).toEqual([]);
    const read = new Set(alerts.flatMap((a) => selectors(a.expr).map((s) => s.metric)));
    expect(read.size).toBeGreaterThan(15);
  });

  it('every label value an alert matches is one the gateway exposes', () => {
    const vocab = vocabularies();
    const problems: string[] = [];
    for (const a of alerts)
      for (const s of selectors(a.expr))
        for (const { label, op, value } of matchers(s)) {
          const known = vocab[label];
          if (!known) continue;
          const simple = /^[A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)*$/.test(value);
          const ok =
            op === '=' || op === '!=' || simple
              ? value.split('|').every(known)
              : // A pattern: it must match something the gateway exposes.
                ['100', '401', '404', '500', '503', 'other'].some(
                  (v) => new RegExp(`^(?:${value})$`).test(v) && known(v),
                );
          if (!ok) problems.push(`${a.alert}: ${s.metric}{${label}${op}"${value}"}`);
        }
    expect(problems).toEqual([]);
  });

  it('figures read from the shared database are taken with max over the instances, never summed', () => {
    const shared = [
      'gateway_transactions',
      'gateway_transactions_attention',
      'gateway_oldest_open_seconds',
      'gateway_supplier_balance_idr',
      'gateway_supplier_balance_low',
      'gateway_supplier_committed_idr',
      'gateway_supplier_expected_wait_seconds',
      'gateway_catalogue_age_seconds',
      'gateway_sku_can_sell',
      'gateway_sku_selling_variation',
    ];
    const summed = 'sum without (instance) (gateway_transactions_attention) > 0';
    expect(enclosingAggregation(summed, selectors(summed)[0]?.at ?? 0)).toBe('sum');
    const problems: string[] = [];
    for (const a of alerts)
      for (const s of selectors(a.expr)) {
        if (!shared.includes(s.metric)) continue;
        const aggregation = enclosingAggregation(a.expr, s.at);
        if (aggregation !== 'max')
          problems.push(`${a.alert}: ${s.metric} in ${aggregation ?? 'no aggregation'}`);
      }
    expect(problems).toEqual([]);
  });

  it('every console page, filter, gateway command and option a runbook names exists', () => {
    const usages = commandUsages();
    // The reading of the sources finds what it should.
    expect([...usages.keys()]).toEqual(
      expect.arrayContaining(['check', 'balance', 'tx list', 'tx show', 'tx recheck']),
    );
    expect(
      runbookProblems('`gateway tx lsit --attention`, /console/suppliers, `gateway check --offline`'),
    ).toEqual([
      'no console page /console/suppliers',
      'no command gateway tx lsit',
      'gateway check: no option --offline',
    ]);
    // In the rules (templates as they are), and rendered in the unit tests' expectations.
    const runbooks = [
      ...alerts.map((a) => [a.alert, a.annotations?.runbook ?? ''] as const),
      ...testFile.tests.flatMap((g) =>
        (g.alert_rule_test ?? []).flatMap((c) =>
          (c.exp_alerts ?? []).map(
            (e) => [`${c.alertname} (rendered)`, e.exp_annotations?.runbook ?? ''] as const,
          ),
        ),
      ),
    ];
    const problems = runbooks.flatMap(([name, runbook]) =>
      runbookProblems(runbook).map((p) => `${name}: ${p}`),
    );
    expect(problems).toEqual([]);
  });
});
