import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildFormData } from '../../src/config/form-data.js';
import { type Mapping, parseMapping, SKU_PATTERN } from '../../src/config/mapping.js';
import { createMappingStore } from '../../src/config/mapping-store.js';
import { parseTemplate, renderTemplate } from '../../src/config/template.js';
import { createLogger } from '../../src/log.js';
import { exampleMapping } from '../../test/helpers/mapping.js';
import { type AccountInput, accountInput, mappingText, template } from './config-arbitraries.js';
import { type Property, pureProperty, tagged, threw } from './runner.js';
import { modelRender } from './template-model.js';

// The operator's configuration: the mapping loader and the templates, never an exception.

const FILE = 'fuzz-mapping.yaml';

/** Checks a parsed mapping as the README describes one; a list of what is off. */
function mappingProblems(mapping: Mapping): string | null {
  if (mapping.skus.size === 0) return 'a mapping with no SKU was accepted';
  for (const [sku, e] of mapping.skus) {
    if (!SKU_PATTERN.test(sku)) return `SKU name ${JSON.stringify(sku)} accepted`;
    if (!e.brand.trim() || !e.variation.trim()) return `${sku}: empty brand or variation accepted`;
    if (!Number.isSafeInteger(e.maxPrice) || e.maxPrice <= 0)
      return `${sku}: max_price ${e.maxPrice} accepted`;
    if (e.countries?.some((c) => !/^[A-Z]{2}$/.test(c))) return `${sku}: countries ${e.countries} accepted`;
    const r = e.revenue;
    if (
      r &&
      !(
        Number.isSafeInteger(r.amountMinor) &&
        r.amountMinor > 0 &&
        Number.isSafeInteger(r.rateE6) &&
        r.rateE6 > 0 &&
        Number.isSafeInteger(r.idr) &&
        r.idr >= 0 &&
        /^[A-Z]{3}$/.test(r.currency) &&
        (r.currency === 'IDR' || mapping.rates.has(r.currency))
      )
    )
      return `${sku}: revenue ${JSON.stringify(r)} accepted`;
  }
  return null;
}

const SCRATCH = join(tmpdir(), `gateway-fuzz-mapping-${process.pid}.yaml`);
/** The mapping a running gateway holds when the file changes under it. */
const RUNNING = exampleMapping();

/** One mapping file: parsed, its entries used, and reloaded as the running gateway would. */
export function checkMapping([text, input]: [string, AccountInput]): string | null {
  const shown = `\nfile:\n${text.slice(0, 2000)}`;
  let result: ReturnType<typeof parseMapping>;
  try {
    result = parseMapping(text, FILE);
  } catch (err) {
    return threw('parseMapping', err) + shown;
  }
  if (!result.ok) {
    const bad =
      result.errors.length === 0
        ? 'no errors listed'
        : result.errors.find((e) => !e.startsWith(`${FILE}`) || !/: \S/.test(e));
    if (bad) return `a refusal that does not name the file and a reason: ${JSON.stringify(bad)}${shown}`;
  } else {
    const off = mappingProblems(result.mapping);
    if (off) return off + shown;
    for (const entry of result.mapping.skus.values()) {
      try {
        buildFormData(entry, { accountId: input.accountId, customParam: input.customParam ?? undefined });
      } catch (err) {
        return threw('buildFormData', err) + shown;
      }
    }
  }
  // The running gateway's reload: a bad file keeps the mapping in force, nothing escapes.
  writeFileSync(SCRATCH, text);
  const store = createMappingStore(SCRATCH, RUNNING, createLogger('silent'));
  try {
    const reloaded = store.reload();
    if (!reloaded.ok && store.current() !== RUNNING) return 'a refused reload replaced the running mapping';
  } catch (err) {
    return `${threw('mapping-reload', err)} (the running gateway's watcher would crash)${shown}`;
  } finally {
    store.close();
    rmSync(SCRATCH, { force: true });
  }
  return null;
}

/** The mapping loader: a mapping, or its own errors naming the file; never an exception. */
export const mapping: Property = pureProperty('mapping', fc.tuple(mappingText, accountInput), checkMapping);

export type TemplateCase = [string, string[], AccountInput, Record<string, string>];

/** One template, parsed and rendered, judged by the README's rules (`template-model.ts`). */
export function checkTemplate([t, groups, input, groupValues]: TemplateCase): string | null {
  let parsed: ReturnType<typeof parseTemplate>;
  const customParam = input.customParam ?? {};
  try {
    parsed = parseTemplate(t, groups);
  } catch (err) {
    return threw('parseTemplate', err);
  }
  const model = modelRender(t, groups, { accountId: input.accountId, customParam, groups: groupValues });
  if (!parsed.ok) {
    if (model.ok || model.stage !== 'parse')
      return `refused ${JSON.stringify(t)} (${parsed.reason}), which the rules accept`;
    if (!parsed.reason.trim()) return `refused ${JSON.stringify(t)} without a reason`;
  } else {
    if (!model.ok && model.stage === 'parse') return `accepted ${JSON.stringify(t)}, which the rules refuse`;
    let rendered: ReturnType<typeof renderTemplate>;
    try {
      rendered = renderTemplate(parsed.parts, {
        accountId: input.accountId,
        customParam,
        groups: groupValues,
      });
    } catch (err) {
      return threw('renderTemplate', err);
    }
    // A name every object inherits (`constructor`, `toString`, `__proto__`) taken for a given value.
    const inherited = parsed.parts.some(
      (p) => p.kind !== 'literal' && p.kind !== 'accountId' && p.name in {},
    );
    if (rendered.ok !== model.ok || (rendered.ok && model.ok && rendered.value !== model.value))
      return tagged(
        inherited ? 'template-inherited-name' : 'template-render',
        `${JSON.stringify(t)} with ${JSON.stringify({ accountId: input.accountId, customParam, groups: groupValues })} rendered ${JSON.stringify(rendered)}; the rules say ${JSON.stringify(model)}`,
      );
  }
  return null;
}

/** Templates: parsed and rendered as the README says, or refused with a reason; never an exception. */
export const templates: Property = pureProperty(
  'templates',
  fc.tuple(
    template,
    fc.array(
      fc.oneof(
        fc.constantFrom('user_id', 'uid', 'constructor', '__proto__', 'toString'),
        fc.stringMatching(/^[a-z_]{1,6}$/),
      ),
      { maxLength: 3 },
    ),
    accountInput,
    fc.dictionary(fc.constantFrom('user_id', 'uid', 'constructor', 'x'), fc.string({ maxLength: 6 }), {
      maxKeys: 3,
    }),
  ),
  checkTemplate,
);
