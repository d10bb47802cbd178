import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CatalogueJson, mappedOptions, snapshotFromJson } from '../admin/supplier.js';
import { DEFAULT_READINGS_FILE, readEnvironment } from '../config/env.js';
import { lossWarnings, type Mapping, rateWarnings } from '../config/mapping.js';
import { checkMapping, type MappingCheckRow, type OptionCheck } from '../fulfilment/mapping-check.js';
import { type Whereabouts, whereaboutsLine } from '../gateway.js';
import { differences } from '../readings/settings.js';
import { adminClient } from './admin-client.js';
import { preflight } from './preflight.js';
import type { CliIo } from './run.js';
import { formatTable } from './table.js';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * `gateway check [--mapping FILE] [--online] [--json]`: what a production start validates, and
 * where it would talk. With --json, stdout carries one JSON object whatever happens: a bad
 * argument, an unreachable gateway or a refused token become its `problems`.
 */
export async function runCheck(args: string[], io: CliIo): Promise<number> {
  if (!args.includes('--json')) return check(args, io);
  const problems: string[] = [];
  let printed = false;
  const quiet: CliIo = {
    ...io,
    out: (line) => {
      printed = true;
      io.out(line);
    },
    err: (line) => problems.push(line),
  };
  let code: number;
  try {
    code = await check(args, quiet);
  } catch (err) {
    problems.push(`gateway check: ${err instanceof Error ? err.message : String(err)}`);
    code = 1;
  }
  if (!printed) io.out(JSON.stringify({ ok: false, problems }));
  return code;
}

async function check(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { mapping: { type: 'string' }, online: { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
  });
  const env = readEnvironment(io.cwd, io.env);
  // --mapping names the file as MAPPING_FILE would: the validation is the start's own.
  const checked = preflight(values.mapping ? { ...env, MAPPING_FILE: values.mapping } : env, io.cwd);
  const json = values.json ?? false;
  if (!checked.ok) {
    if (json) io.out(JSON.stringify({ ok: false, problems: checked.problems }));
    else {
      for (const p of checked.problems) io.err(p);
      io.err(`check failed: ${plural(checked.problems.length, 'problem')}`);
    }
    return 1;
  }
  const file = values.mapping ?? env.MAPPING_FILE ?? './config/mapping.yaml';
  const readingsFile = env.READINGS_FILE || DEFAULT_READINGS_FILE;
  const changed = differences(checked.readings);
  const readingsJson = { file: readingsFile, differences: changed };
  const readingsLines = [
    changed.length === 0
      ? `readings: every default (${readingsFile}${env.READINGS_FILE || existsSync(resolve(io.cwd, readingsFile)) ? '' : ' absent'})`
      : `readings: ${plural(changed.length, 'setting')} differ from the defaults in ${readingsFile}:`,
    ...changed.map((d) => `  ${d.path}: ${JSON.stringify(d.value)} (default ${JSON.stringify(d.default)})`),
  ];
  // Allowed, but said: a rate dated after today, a max_price above what a sale earns.
  const warnings = [
    ...rateWarnings(checked.mapping, new Date().toISOString().slice(0, 10)),
    ...lossWarnings(checked.mapping),
  ].map((w) => `${file}: ${w}`);
  if (!json) for (const w of warnings) io.out(`warning: ${w}`);
  const skus = [...checked.mapping.skus.values()];
  const disabled = skus.filter((s) => !s.enabled).length;
  const offline = `${plural(skus.length, 'SKU')} from ${file} (${skus.map((s) => s.sku).join(', ')}; ${disabled} disabled), environment valid`;
  if (!values.online) {
    if (json)
      io.out(
        JSON.stringify({
          ok: true,
          mapping: { file, skus: skus.map((s) => ({ sku: s.sku, enabled: s.enabled })) },
          readings: readingsJson,
          warnings,
          ...checked.where,
        }),
      );
    else {
      io.out(`ok: ${offline}`);
      for (const line of readingsLines) io.out(line);
      io.out(whereaboutsLine(checked.where));
    }
    return 0;
  }
  return online(checked.mapping, offline, checked.where, json, io, {
    json: readingsJson,
    lines: readingsLines,
    warnings,
  });
}

/** The mapping against the live catalogue, fetched by the running gateway within its rate limit. */
async function online(
  mapping: Mapping,
  offline: string,
  where: Whereabouts,
  json: boolean,
  io: CliIo,
  readings: { json: unknown; lines: string[]; warnings: string[] },
): Promise<number> {
  const call = adminClient('check --online', io);
  if (!call) return 1;
  // Every option of every SKU: the main, then its backups.
  const pairs = new Map(mappedOptions(mapping).map((o) => [`${o.brand}\n${o.variation}`, o]));
  const items = [...pairs.values()].map((s) => ({ brand: s.brand, variation: s.variation }));
  const result = await call('POST', '/admin/supplier/catalogue', { items });
  if (!result.ok) return 1;
  const fetched = result.value as CatalogueJson & {
    refreshed: { brands: string; variations: Record<string, string> };
  };
  const check = checkMapping(mapping, snapshotFromJson(fetched));
  const stale = [
    ...(fetched.refreshed.brands === 'ok' ? [] : [`brand list: ${fetched.refreshed.brands}`]),
    ...Object.entries(fetched.refreshed.variations)
      .filter(([, r]) => r !== 'ok')
      .map(([brand, r]) => `variations of ${brand}: ${r}`),
  ];
  if (json) {
    io.out(
      JSON.stringify({
        ok: check.problems.length === 0,
        rows: check.rows,
        problems: check.problems,
        notFetched: stale,
        readings: readings.json,
        warnings: [...readings.warnings, ...check.warnings],
        ...where,
      }),
    );
    return check.problems.length === 0 ? 0 : 1;
  }
  // A mapping with backups gets a row per backup under its SKU's, and a NOW column: the option
  // each SKU sells through now (NONE: none can); one without keeps the table it always had.
  const withBackups = check.rows.some((r) => r.backups.length > 0);
  const cells = (o: OptionCheck) => [
    `${o.brand}/${o.variation}`,
    o.price === null ? '-' : String(o.price),
    String(o.maxPrice),
    o.margin === null ? '-' : String(o.margin),
    o.marginPercent === null ? '-' : o.marginPercent.toFixed(1),
    o.active ? 'yes' : 'NO',
  ];
  const now = (r: MappingCheckRow, choice: string) =>
    r.sellsThrough?.choice === choice
      ? 'sells'
      : choice === 'main' && r.enabled && !r.sellsThrough
        ? 'NONE'
        : '';
  const table = formatTable(
    [
      { header: 'SKU' },
      { header: 'ON' },
      { header: 'BRAND/VARIATION' },
      { header: 'PRICE', align: 'right' },
      { header: 'MAX_PRICE', align: 'right' },
      { header: 'MARGIN', align: 'right' },
      { header: '%', align: 'right' },
      { header: 'ACTIVE' },
      ...(withBackups ? [{ header: 'NOW' }] : []),
    ],
    check.rows.flatMap((r) => [
      [r.sku, r.enabled ? 'yes' : 'no', ...cells(r), ...(withBackups ? [now(r, 'main')] : [])],
      ...r.backups.map((b) => [
        `  ${b.choice.replace('backup', 'backup ')}`,
        '',
        ...cells(b),
        now(r, b.choice),
      ]),
    ]),
  );
  for (const line of table) io.out(line);
  // Which option each SKU with backups sells through, and why the earlier ones are passed over.
  for (const r of check.rows)
    if (r.backups.length > 0 && r.enabled) {
      const t = r.sellsThrough;
      const head = t
        ? `${r.sku} sells through ${t.choice === 'main' ? 'its main' : t.choice.replace('backup', 'backup ')} ${t.brand}/${t.variation} at ${t.price}`
        : `${r.sku} cannot sell through any of its variations`;
      io.out(r.passedOver.length > 0 ? `${head}; passed over: ${r.passedOver.join('; ')}` : head);
    }
  for (const w of check.warnings) io.out(`warning: ${w}`);
  for (const line of stale) io.err(`not fetched now, last cache used: ${line}`);
  for (const row of check.rows)
    for (const p of [...row.problems, ...row.backups.flatMap((b) => b.problems)]) {
      // An enabled SKU's problem fails the check, unless it sells through another option (warned above).
      if (!row.enabled) io.out(p);
      else if (check.problems.includes(p)) io.err(p);
    }
  if (check.problems.length > 0) {
    io.err(`check --online failed: ${plural(check.problems.length, 'problem')}`);
    return 1;
  }
  io.out(`ok: ${offline}; every enabled SKU is sold by the supplier within its max_price`);
  for (const line of readings.lines) io.out(line);
  io.out(whereaboutsLine(where));
  return 0;
}
