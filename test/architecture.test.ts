import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layers of the design: routes -> fulfilment -> mitra and db. Storage knows no rules, no
// HTTP and no supplier; the Razer boundary reaches storage only through fulfilment.

const SRC = fileURLToPath(new URL('../src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** Each relative import of a file, as a path under src/ (e.g. "fulfilment/states.js"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
    relative(SRC, join(file, '..', m[1] ?? '')),
  );
}

const importsUnder = (folder: string) =>
  sources(join(SRC, folder)).flatMap((f) => importsOf(f).map((to) => ({ from: relative(SRC, f), to })));

describe('architecture', () => {
  it('OpenTelemetry is loaded only when tracing is on: one module imports it, and it is imported dynamically alone', () => {
    const files = sources(SRC);
    const importing = files
      .filter((f) => /from\s+'@opentelemetry\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(importing).toEqual(['tracing/otel.ts']);
    const statically = files.filter((f) => importsOf(f).includes('tracing/otel.js'));
    expect(statically).toEqual([]);
    const dynamically = files.filter((f) =>
      readFileSync(f, 'utf8').includes("await import('./tracing/otel.js')"),
    );
    expect(dynamically.map((f) => relative(SRC, f))).toEqual(['gateway.ts']);
  });

  it('src/db imports nothing from fulfilment, mitra or razer', () => {
    const bad = importsUnder('db').filter((i) => /^(fulfilment|mitra|razer)\//.test(i.to));
    expect(bad).toEqual([]);
    expect(importsUnder('db').length).toBeGreaterThan(10);
  });

  it('src/fulfilment, the rules, imports nothing from the inbound HTTP layers (razer, http)', () => {
    const bad = importsUnder('fulfilment').filter((i) => /^(razer|http)\//.test(i.to));
    expect(bad).toEqual([]);
    expect(importsUnder('fulfilment').length).toBeGreaterThan(10);
  });

  it('src/razer reaches storage only through fulfilment', () => {
    const bad = importsUnder('razer').filter((i) => i.to.startsWith('db/'));
    expect(bad).toEqual([]);
    expect(importsUnder('razer').some((i) => i.to.startsWith('fulfilment/'))).toBe(true);
  });

  it('src/readings, every reading of the two APIs, is pure: it imports no I/O, no rules and no HTTP', () => {
    const bad = importsUnder('readings').filter((i) => !/^(readings\/|mitra\/schemas\.js$)/.test(i.to));
    expect(bad).toEqual([]);
  });

  it("the simulator is the supplier: it never reads the gateway's readings", () => {
    const bad = importsUnder('sim').filter(
      (i) => i.to.startsWith('readings/settings') || i.to.startsWith('readings/mitra'),
    );
    expect(bad).toEqual([]);
  });

  it('the readings live in src/readings alone: no other module holds a status number class, an rc class or the balance path', () => {
    const literals = [
      /['"]\/v2\/public\/balance['"]/,
      /\[\s*['"]21['"],\s*['"]22['"]/, // the refused rc list
      /['"]23['"],\s*['"]26['"]/, // the may-exist rc list
      /ORDER_STATUS_(PROCESSING|SUCCESS|FAILED)/,
      /status\s*===\s*[123]\b/,
    ];
    // The simulator speaks for the supplier, and conformance probes alternatives to the readings.
    const outside = sources(SRC).filter(
      (f) => !/\/src\/(readings|sim)\//.test(f) && !/\/conformance\/plan\.ts$/.test(f),
    );
    const found = outside.flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return literals.filter((l) => l.test(text)).map((l) => `${relative(SRC, f)}: ${l.source}`);
    });
    expect(found).toEqual([]);
    expect(outside.length).toBeGreaterThan(50);
  });
});
