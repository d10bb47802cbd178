import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CatalogueJson, snapshotFromJson } from '../admin/supplier.js';
import { configSchema, parseEnv, readEnvironment } from '../config/env.js';
import { loadMappingFile, type Mapping } from '../config/mapping.js';
import { checkMapping } from '../fulfilment/mapping-check.js';
import { adminClient } from './admin-client.js';
import type { CliIo } from './run.js';
import { formatTable } from './table.js';

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** `gateway check [--mapping FILE] [--online] [--json]` */
export async function runCheck(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { mapping: { type: 'string' }, online: { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
  });
  const env = readEnvironment(io.cwd, io.env);
  const problems: string[] = [];
  const config = parseEnv(configSchema, env);
  if (!config.ok) problems.push(...config.errors.map((e) => `environment: ${e}`));
  const file = values.mapping ?? env.MAPPING_FILE ?? './config/mapping.yaml';
  const mapping = loadMappingFile(resolve(io.cwd, file));
  if (!mapping.ok) problems.push(...mapping.errors.map((e) => e.replace(resolve(io.cwd, file), file)));
  if (problems.length > 0 || !mapping.ok) {
    for (const p of problems) io.err(p);
    io.err(`check failed: ${plural(problems.length, 'problem')}`);
    return 1;
  }
  const skus = [...mapping.mapping.skus.values()];
  const disabled = skus.filter((s) => !s.enabled).length;
  const offline = `${plural(skus.length, 'SKU')} from ${file} (${skus.map((s) => s.sku).join(', ')}; ${disabled} disabled), environment valid`;
  if (!values.online) {
    io.out(`ok: ${offline}`);
    return 0;
  }
  return online(mapping.mapping, offline, values.json ?? false, io);
}

/** The mapping against the live catalogue, fetched by the running gateway within its rate limit. */
async function online(mapping: Mapping, offline: string, json: boolean, io: CliIo): Promise<number> {
  const call = adminClient('check --online', io);
  if (!call) return 1;
  const pairs = new Map([...mapping.skus.values()].map((s) => [`${s.brand}\n${s.variation}`, s]));
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
      }),
    );
    return check.problems.length === 0 ? 0 : 1;
  }
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
    ],
    check.rows.map((r) => [
      r.sku,
      r.enabled ? 'yes' : 'no',
      `${r.brand}/${r.variation}`,
      r.price === null ? '-' : String(r.price),
      String(r.maxPrice),
      r.margin === null ? '-' : String(r.margin),
      r.marginPercent === null ? '-' : r.marginPercent.toFixed(1),
      r.active ? 'yes' : 'NO',
    ]),
  );
  for (const line of table) io.out(line);
  for (const line of stale) io.err(`not fetched now, last cache used: ${line}`);
  for (const row of check.rows)
    for (const p of row.problems) {
      if (row.enabled) io.err(p);
      else io.out(p);
    }
  if (check.problems.length > 0) {
    io.err(`check --online failed: ${plural(check.problems.length, 'problem')}`);
    return 1;
  }
  io.out(`ok: ${offline}; every enabled SKU is sold by the supplier within its max_price`);
  return 0;
}
