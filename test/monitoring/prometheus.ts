import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, tool } from '../deploy/tools.js';
import { waitFor } from '../helpers/wait.js';

// What the monitoring tests share: Debian's Prometheus started on loopback with a config of the
// test's, its HTTP API, and the reading of the shipped Grafana dashboard: its panels' queries,
// the metric selectors inside a PromQL expression, and the checks that every query finds series.

export interface Prometheus {
  url: string;
  output: string[];
  stop(): Promise<void>;
}

/**
 * Prometheus with `config` (written as YAML to dir/prometheus.yml), its TSDB under dir/data, on
 * 127.0.0.1 at a free port; resolved once /-/ready answers 200.
 */
export async function startPrometheus(dir: string, config: unknown): Promise<Prometheus> {
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, stringify(config));
  // Prometheus cannot be told port 0 and then report the port it got: it is given a free one.
  const port = await freePort();
  const child: ChildProcess = spawn(
    tool('prometheus'),
    [
      `--config.file=${file}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.console.templates=${join(dir, 'consoles')}`,
      `--web.console.libraries=${join(dir, 'console_libraries')}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`prometheus exited:\n${output.join('')}`);
        return (await fetch(`${url}/-/ready`).catch(() => null))?.status === 200;
      },
      20_000,
      () => `prometheus to be ready on ${url}\n${output.join('')}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, output, stop };
}

export interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through /api/v1/query: its vector, or the error Prometheus gave. */
export async function query(prometheus: string, expr: string): Promise<Series[]> {
  const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Series[] };
  };
  if (body.status !== 'success' || !body.data) throw new Error(body.error ?? `HTTP ${res.status}`);
  if (body.data.resultType !== 'vector') throw new Error(`a ${body.data.resultType}, not an instant vector`);
  return body.data.result;
}

// ---------------------------------------------------------------- PromQL selectors

/** Words of PromQL that look like metric names but are not. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

export interface Selector {
  metric: string;
  /** The label matchers as written, braces included; '' when none. */
  matchers: string;
  /** `metric{matchers}`: a query of its own. */
  text: string;
  /** Where it starts in the expression. */
  at: number;
}

const BRACES = String.raw`\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}`;

/**
 * The metric selectors of a PromQL expression (`name` or `name{...}`, with their matchers):
 * grouping clauses, range durations and string literals are left out, and a name followed by
 * `(` is a function.
 */
export function selectors(expr: string): Selector[] {
  // Blanked to the same length, so that positions stay those of `expr`.
  const blank = (t: string) => ' '.repeat(t.length);
  const text = expr
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, blank)
    .replace(/\[[^\]]*\]/g, blank);
  const token = new RegExp(
    `(${BRACES})|("(?:[^"\\\\]|\\\\.)*")|([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*${BRACES})?`,
    'g',
  );
  const found: Selector[] = [];
  for (const m of text.matchAll(token)) {
    const [, , , name, braces] = m;
    if (name === undefined) continue;
    const before = text[m.index - 1];
    // Part of a number (1e3) or of a duration.
    if (before !== undefined && /[0-9.]/.test(before)) continue;
    if (KEYWORDS.has(name)) continue;
    if (braces === undefined && /^\s*\(/.test(text.slice(m.index + m[0].length))) continue;
    const matchers = braces?.trim() ?? '';
    found.push({ metric: name, matchers, text: `${name}${matchers}`, at: m.index });
  }
  return found;
}

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  /** As written between the quotes. */
  value: string;
}

/** The label matchers of a selector, in order. */
export function matchers(selector: Selector): Matcher[] {
  const found: Matcher[] = [];
  for (const m of selector.matchers.matchAll(
    /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g,
  ))
    found.push({ label: m[1] ?? '', op: (m[2] ?? '=') as Matcher['op'], value: m[3] ?? '' });
  return found;
}

/** `metric{matchers}` again, from its parts. */
export function selectorText(metric: string, list: Matcher[]): string {
  return list.length === 0
    ? metric
    : `${metric}{${list.map((m) => `${m.label}${m.op}"${m.value}"`).join(', ')}}`;
}

// ---------------------------------------------------------------- the dashboard

export interface Datasource {
  type?: string;
  uid?: string;
}

export interface Target {
  refId?: string;
  expr?: string;
  datasource?: Datasource;
}

export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: Datasource;
  gridPos?: { h?: number; w?: number; x?: number; y?: number };
  targets?: Target[];
  panels?: Panel[];
}

export interface Variable {
  name?: string;
  type?: string;
  query?: string | { query?: string };
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  datasource?: Datasource;
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

/** The datasource variable, as Grafana writes it. */
export const DATASOURCE_VARIABLE = `\${datasource}`;
export const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_VARIABLE } as const;
export const INSTANCE_FILTER = 'instance=~"$instance"';

/** Every panel, those inside collapsed rows too. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title ?? `panel ${p.id}`,
      refId: t.refId ?? '?',
      expr: t.expr ?? '',
    })),
  );
}

const isDatasourceVariable = (d: unknown) =>
  typeof d === 'object' && d !== null && JSON.stringify(d) === JSON.stringify(DATASOURCE);

/** What keeps the JSON from being a dashboard importable as it is, one line each; [] when none. */
export function dashboardProblems(dashboard: Dashboard): string[] {
  const problems: string[] = [];
  if (typeof dashboard.uid !== 'string' || !/^[a-zA-Z0-9_-]{1,40}$/.test(dashboard.uid))
    problems.push(`uid: ${JSON.stringify(dashboard.uid)} is not 1-40 of [a-zA-Z0-9_-]`);
  if (typeof dashboard.title !== 'string' || dashboard.title === '') problems.push('no title');
  if (
    typeof dashboard.schemaVersion !== 'number' ||
    dashboard.schemaVersion < 36 ||
    dashboard.schemaVersion > 41
  )
    problems.push(`schemaVersion ${dashboard.schemaVersion}, expected about 39`);
  const variables = dashboard.templating?.list ?? [];
  const ds = variables.find((v) => v.name === 'datasource');
  if (ds?.type !== 'datasource' || ds.query !== 'prometheus')
    problems.push('no variable "datasource" of type datasource with query prometheus');
  const instance = variables.find((v) => v.name === 'instance');
  const instanceQuery = typeof instance?.query === 'string' ? instance.query : instance?.query?.query;
  if (
    instance?.type !== 'query' ||
    instanceQuery !== 'label_values(gateway_razer_requests_total, instance)' ||
    instance.multi !== true ||
    instance.includeAll !== true ||
    instance.allValue !== '.*' ||
    !isDatasourceVariable(instance.datasource)
  )
    problems.push(
      `no variable "instance": query label_values(gateway_razer_requests_total, instance) on \${datasource}, multi, includeAll, allValue .*`,
    );
  // Every datasource anywhere is the variable: no uid of one Grafana's datasource is baked in.
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) walk(n, `${path}[${i}]`);
    } else if (typeof node === 'object' && node !== null)
      for (const [k, v] of Object.entries(node)) {
        if (k === 'datasource' && !isDatasourceVariable(v))
          problems.push(`${path}.datasource is ${JSON.stringify(v)}, not ${JSON.stringify(DATASOURCE)}`);
        walk(v, `${path}.${k}`);
      }
  };
  walk(dashboard.panels, 'panels');
  const panels = allPanels(dashboard);
  if (panels.filter((p) => (p.targets ?? []).length > 0).length === 0) problems.push('no panel has a query');
  const ids = new Map<number, number>();
  for (const p of panels) {
    const name = `panel ${p.id} "${p.title}"`;
    if (typeof p.id !== 'number') problems.push(`${name}: no numeric id`);
    else ids.set(p.id, (ids.get(p.id) ?? 0) + 1);
    if (!p.title) problems.push(`${name}: no title`);
    if (!isDatasourceVariable(p.datasource)) problems.push(`${name}: datasource is not \${datasource}`);
    const g = p.gridPos;
    if (!g || ![g.h, g.w, g.x, g.y].every((n) => Number.isInteger(n)) || (g.x ?? 0) + (g.w ?? 0) > 24)
      problems.push(`${name}: gridPos missing or outside the 24 columns`);
    if (p.type === 'row') continue;
    if (p.type !== 'timeseries' && p.type !== 'stat') problems.push(`${name}: type ${p.type}`);
    if ((p.targets ?? []).length === 0) problems.push(`${name}: no query`);
    for (const t of p.targets ?? []) {
      const where = `${name} ${t.refId}`;
      if (!isDatasourceVariable(t.datasource)) problems.push(`${where}: datasource is not \${datasource}`);
      const expr = t.expr ?? '';
      if (expr === '') problems.push(`${where}: no expr`);
      for (const s of selectors(expr))
        if (!s.matchers.includes(INSTANCE_FILTER))
          problems.push(`${where}: ${s.text} does not filter ${INSTANCE_FILTER}`);
      if (/\brate\(|\bincrease\(/.test(expr) && !expr.includes('[$__rate_interval]'))
        problems.push(`${where}: a rate not over [$__rate_interval]`);
    }
  }
  for (const [id, n] of ids) if (n > 1) problems.push(`panel id ${id} used ${n} times`);
  return problems;
}

/** A panel's query as Prometheus takes it: every instance, and a rate window that fits the scrapes. */
export function substitute(expr: string, rateWindow: string): string {
  return expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', rateWindow);
}

/**
 * Runs every query of every panel against Prometheus; one line per query that fails (an error,
 * no series, or only NaN), naming its panel and expression. [] when every query finds series.
 */
export async function failingPanelQueries(
  prometheus: string,
  dashboard: Dashboard,
  rateWindow: string,
): Promise<string[]> {
  const results = await Promise.all(
    panelQueries(dashboard).map(async (q) => {
      const expr = substitute(q.expr, rateWindow);
      const problem = await query(prometheus, expr).then(
        (series) =>
          series.length === 0
            ? 'no series'
            : series.every((s) => Number.isNaN(Number(s.value[1])))
              ? 'only NaN'
              : null,
        (err: Error) => `error: ${err.message}`,
      );
      return problem && `"${q.panel}" ${q.refId}: ${problem}: ${expr}`;
    }),
  );
  return results.filter((r): r is string => r !== null);
}
