import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lastConformanceReport, MAX_REPORT_BYTES } from '../src/conformance/last-report.js';
import {
  type ConformanceReport,
  conformanceReportSchema,
  REPORT_VERSION,
} from '../src/conformance/report.js';
import { decode, textOf } from './helpers/console-html.js';
import { type E2E, startE2E } from './helpers/e2e.js';
import { initBody, send } from './helpers/razer.js';

// The console's Go live page (issue 23 §3, §4), through HTTP against a whole gateway: the last
// conformance report, the readings in force, and what was seen of Razer's requests.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

let e: E2E | undefined;
let dir: string | undefined;
afterEach(async () => {
  await e?.close();
  e = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

interface Setup {
  e: E2E;
  /** CONFORMANCE_DIR: where a test saves a report as the command would. */
  reports: string;
  readingsFile: string;
}

async function start(readings = ''): Promise<Setup> {
  dir = await mkdtemp(join(tmpdir(), 'go-live-'));
  const reports = join(dir, 'conformance');
  const readingsFile = join(dir, 'readings.yaml');
  await writeFile(readingsFile, readings);
  e = await startE2E({
    env: {
      ADMIN_TOKEN,
      TOPUP_WAIT_MS: '300',
      RECONCILE_SCHEDULE_MS: '60000',
      CONFORMANCE_DIR: reports,
      READINGS_FILE: readingsFile,
    },
  });
  return { e, reports, readingsFile };
}

async function saveReport(reports: string, name: string, report: unknown) {
  await mkdir(reports, { recursive: true });
  await writeFile(join(reports, name), typeof report === 'string' ? report : JSON.stringify(report));
}

/** Signs in and reads the page; also checks it is operator-only. */
async function goLive(base: string): Promise<{ status: number; html: string; text: string }> {
  const signedOut = await fetch(`${base}/console/go-live`, { redirect: 'manual' });
  expect(signedOut.status).toBe(303);
  expect(signedOut.headers.get('location')).toBe('/console/sign-in');
  expect(await signedOut.text()).not.toContain('Go live');

  const signIn = await fetch(`${base}/console/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN, actor: 'alice' }).toString(),
    redirect: 'manual',
  });
  expect(signIn.status).toBe(303);
  const cookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const res = await fetch(`${base}/console/go-live`, { headers: { cookie }, redirect: 'manual' });
  const html = await res.text();
  return { status: res.status, html, text: textOf(html) };
}

/** The text of the element with this id (its first closing tag of the same name ends it). */
function section(html: string, tag: string, id: string): string {
  const m = new RegExp(`<${tag}[^>]*id="${id}"[^>]*>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!m) throw new Error(`no ${tag}#${id} in the page`);
  return textOf(m[1] ?? '').trim();
}

/** A table row by its data attribute, as text. */
function row(html: string, attribute: string, value: string): string {
  const m = new RegExp(`<tr[^>]*${attribute}="${value}"[^>]*>([\\s\\S]*?)</tr>`).exec(html);
  if (!m) throw new Error(`no row ${attribute}=${value}`);
  return textOf(m[1] ?? '').trim();
}

/** A report as `gateway conformance` saves it (checked against its schema), changed by `over`. */
function report(over: Partial<ConformanceReport> = {}): ConformanceReport {
  return conformanceReportSchema.parse({
    version: REPORT_VERSION,
    startedAt: '2026-03-04T05:01:00.000Z',
    finishedAt: '2026-03-04T05:06:07.000Z',
    mitra: { url: 'https://h2h-api.vcg.my.id', host: 'development' },
    storage: 'sqlite',
    readings: { file: '/srv/gateway/config/readings.yaml', differences: [] },
    exitCode: 1,
    summary: { confirmed: 1, contradicted: 1, notObserved: 1 },
    findings: [
      {
        id: 'mitra.order_status.success',
        verdict: 'confirmed',
        reading: 'status 2 means delivered',
        evidence: ['order VCG-1 (scenario topup) answered status 2'],
        why: null,
        fix: null,
      },
      {
        id: 'mitra.order_status.failed',
        verdict: 'contradicted',
        reading: 'status 3 means failed, not delivered',
        evidence: ['order VCG-2 (scenario fail-product) ended with status 4', 'history "Gagal"'],
        why: null,
        fix: {
          change: { mitra: { order_status: { failed: [3, 4] } } },
          yaml: 'mitra:\n  order_status:\n    failed:\n      - 3\n      - 4',
          accepted: true,
          refusedBecause: [],
          caution: null,
        },
      },
      {
        id: 'mitra.webhook',
        verdict: 'not-observed',
        reading: 'webhook fields are at the top level or under data',
        evidence: [],
        why: 'no webhook arrived within 60 s: is the webhook URL registered with Mitra?',
        fix: null,
      },
    ],
    combinedFix: null,
    problems: [],
    observations: {
      options: {
        production: false,
        confirmSpendIdr: null,
        listen: null,
        timeoutSeconds: 300,
        webhookWaitSeconds: 60,
        failProduct: null,
        refundProduct: null,
        forms: {},
      },
      catalogue: { brandsOutcome: 'accepted', brandCount: 0, forms: [], searched: [], missing: [] },
      balance: [],
      orders: [],
      skipped: [],
      webhooks: { via: 'store', waitedSeconds: 60, items: [] },
      exchanges: [],
    },
    ...over,
  });
}

describe('console: Go live', () => {
  it('empty: no report yet says how to run it; every default; no Razer request seen', async () => {
    const { e, reports, readingsFile } = await start();
    const page = await goLive(e.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<a href="/console/go-live" class="here">Go live</a>');

    expect(page.text).toContain('No conformance report yet.');
    const how = section(page.html, 'div', 'conformance-how');
    expect(how).toContain('MITRA_BASE_URL=https://h2h-api.vcg.my.id');
    expect(how).toContain('npm run gateway -- conformance --listen 0.0.0.0:8099');
    expect(how).toContain(reports);
    expect(page.html).not.toContain('id="conformance"');

    expect(section(page.html, 'dd', 'readings-file')).toBe(readingsFile);
    expect(section(page.html, 'p', 'readings-default')).toContain('Every default');

    for (const endpoint of ['init', 'topup', 'query', 'cancel', 'validate', 'health'])
      expect(row(page.html, 'data-endpoint', endpoint)).toContain('not seen yet');
    expect(section(page.html, 'p', 'razer-no-failures')).toContain('No failed verification');
    expect(section(page.html, 'p', 'razer-skipped')).toBe('No diagnosis skipped.');
  });

  it('a report with a contradiction shows each reading, the evidence and the exact YAML fix', async () => {
    const { e, reports } = await start();
    // The newest report is shown, whatever order they were written in; a text report is not read.
    await saveReport(reports, 'conformance-20260304T050607Z.json', report());
    await saveReport(reports, 'conformance-20260301T000000Z.json', report({ exitCode: 0, findings: [] }));
    await saveReport(reports, 'conformance-20260305T000000Z.txt', 'the same report as text');
    const page = await goLive(e.url);
    expect(page.status).toBe(200);

    expect(page.text).not.toContain('No conformance report yet');
    const run = section(page.html, 'dl', 'conformance-run');
    expect(run).toContain('2026-03-04 05:06:07 UTC');
    expect(run).toContain('https://h2h-api.vcg.my.id (development)');
    expect(run).toContain('exit 1: something contradicted; 1 confirmed, 1 contradicted, 1 not observed');
    expect(run).toContain('/srv/gateway/config/readings.yaml: every default');
    expect(run).toContain(join(reports, 'conformance-20260304T050607Z.json'));
    // The report judged the defaults, which are in force: not stale.
    expect(page.text).not.toContain('differ from those this report judged');

    expect(row(page.html, 'data-verdict', 'confirmed')).toContain('answered status 2');
    const contradicted = row(page.html, 'data-verdict', 'contradicted');
    expect(contradicted).toContain('mitra.order_status.failed');
    expect(contradicted).toContain('ended with status 4 history "Gagal"');
    // The fix as it goes in the readings file, line breaks and indentation kept.
    const fix = /<pre class="fix">([\s\S]*?)<\/pre>/.exec(page.html)?.[1];
    expect(decode(fix ?? '')).toBe('mitra:\n  order_status:\n    failed:\n      - 3\n      - 4');
    expect(row(page.html, 'data-verdict', 'not observed')).toContain(
      'no webhook arrived within 60 s: is the webhook URL registered with Mitra?',
    );
    expect(page.text).toContain('1 reading contradicted');
    expect(section(page.html, 'div', 'summary-mitra')).toContain('1/3');
  });

  it('a fix the guard rails refuse, a run that could not complete, readings changed since', async () => {
    const { e, reports } = await start('razer:\n  signed_content: uri\n');
    const base = report();
    const [, contradicted] = base.findings;
    if (!contradicted?.fix) throw new Error('fixture');
    await saveReport(
      reports,
      'conformance-20260304T050607Z.json',
      report({
        exitCode: 2,
        mitra: { url: 'https://mitra-api.vcgamers.com', host: 'production' },
        problems: ['the catalogue could not be read: rc 50'],
        findings: [
          {
            ...contradicted,
            fix: {
              ...contradicted.fix,
              accepted: false,
              refusedBecause: ['mitra.order_status.failed: status 2 is both success and failed'],
              caution: 'status 4 was seen once only',
            },
          },
          {
            id: 'mitra.rc.may_exist',
            verdict: 'contradicted',
            reading: 'rc 23 and 26 say an order for the ref_id may exist',
            evidence: ['a repeated ref_id answered rc 45'],
            why: 'rc 45 is a traffic limit, never a refusal: ask Mitra',
            fix: null,
          },
        ],
        combinedFix: { ...contradicted.fix, yaml: 'mitra:\n  order_status:\n    failed: [3, 4]' },
      }),
    );
    const page = await goLive(e.url);
    expect(section(page.html, 'dd', 'conformance-exit')).toContain('exit 2: the run could not complete');
    expect(section(page.html, 'ul', 'conformance-problems')).toBe('the catalogue could not be read: rc 50');
    expect(page.text).toContain("not Mitra's development URL");
    expect(page.text).toContain('The readings in force differ from those this report judged');
    const fix = row(page.html, 'data-verdict', 'contradicted');
    expect(fix).toContain('The guard rails refuse it');
    expect(fix).toContain('status 2 is both success and failed');
    expect(fix).toContain('Before applying it: status 4 was seen once only');
    expect(page.html).toContain('<pre class="fix refused">');
    expect(row(page.html, 'data-setting', 'mitra.rc.may_exist')).toContain(
      'No fix: rc 45 is a traffic limit, never a refusal: ask Mitra',
    );
    // One fix only: no "every fix at once".
    expect(page.html).not.toContain('id="conformance-combined"');
  });

  it('a report that cannot be read is said on the page; the rest still shows', async () => {
    const { e, reports } = await start();
    await saveReport(reports, 'conformance-20260304T050607Z.json', 'MITRA_SECRET_KEY=hunter2 {"version": ');
    const page = await goLive(e.url);
    expect(page.status).toBe(200);
    expect(page.text).toContain('The last conformance report cannot be read');
    expect(page.text).toContain('conformance-20260304T050607Z.json: not valid JSON');
    // The parser's message quotes the file's first bytes: never shown.
    expect(page.text).not.toContain('MITRA_SECRET');
    expect(section(page.html, 'div', 'conformance-how')).toContain('gateway conformance');
    expect(row(page.html, 'data-endpoint', 'init')).toContain('not seen yet');
  });

  it('requests without a signature header are shown as a count, never as kept failures', async () => {
    const { e } = await start();
    for (let i = 0; i < 30; i++)
      expect(
        (await send(e, 'POST', '/transaction/init', initBody(`GL-N${i}`), { header: null })).status,
      ).toBe(401);
    const refused = await send(e, 'POST', '/transaction/init', initBody('GL-BAD'), { mode: 'uri' });
    expect(refused.status).toBe(401);
    const page = await goLive(e.url);
    expect(section(page.html, 'p', 'razer-unsigned')).toContain(
      '30 requests without an X-Razer-Signature header refused (401), counted only',
    );
    expect(row(page.html, 'data-outcome', 'matched')).toContain('publisherA');
    expect(page.html).not.toContain('data-outcome="unmatched"');
    expect(section(page.html, 'div', 'summary-razer')).toContain('1 failed verification kept');
  });

  it('readings in force: every setting that differs from its default, with both values', async () => {
    const { e, readingsFile } = await start(
      'mitra:\n  order_status:\n    failed: [3, 4]\nrazer:\n  signed_content: uri\n',
    );
    const page = await goLive(e.url);
    expect(section(page.html, 'dd', 'readings-file')).toBe(readingsFile);
    expect(page.html).not.toContain('id="readings-default"');
    expect(row(page.html, 'data-setting', 'mitra.order_status.failed')).toBe(
      'mitra.order_status.failed [ 3, 4 ] [ 3 ]',
    );
    expect(row(page.html, 'data-setting', 'razer.signed_content')).toBe('razer.signed_content uri body');
  });

  it('a badly signed Razer request shows up with its diagnosis; a verified one as first seen', async () => {
    const { e } = await start();
    // Signed without the body, as the `uri` reading would: refused, and diagnosed.
    const refused = await send(e, 'POST', '/transaction/init', initBody('GL-BAD'), { mode: 'uri' });
    expect(refused.status).toBe(401);
    expect((await e.init('GL-OK')).status).toBe(200);

    const page = await goLive(e.url);
    const init = row(page.html, 'data-endpoint', 'init');
    expect(init).toMatch(
      /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\): signed content body, api-id publisherA/,
    );
    expect(init).toMatch(/1 \(last \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/);
    expect(row(page.html, 'data-endpoint', 'topup')).toContain('not seen yet');

    const failure = row(page.html, 'data-outcome', 'matched');
    expect(failure).toContain('POST /transaction/init');
    expect(failure).toContain('publisherA');
    expect(failure).toContain('signed-content-uri');
    expect(failure).toContain('set razer.signed_content: uri in the readings file');
    expect(section(page.html, 'div', 'summary-razer')).toContain('1/6 verified; 1 failed verification kept');
  });

  it('hostile text in a report and in a Razer header is shown as text, never as markup', async () => {
    const { e, reports } = await start();
    const hostile = '<script>alert(1)</script>';
    const base = report();
    const [, contradicted, notObserved] = base.findings;
    if (!contradicted?.fix || !notObserved) throw new Error('fixture');
    await saveReport(
      reports,
      'conformance-20260304T050607Z.json',
      report({
        mitra: { url: `https://h2h-api.vcg.my.id/${hostile}`, host: `<img src=x onerror=alert(2)>` },
        readings: { file: `/srv/${hostile}`, differences: [`mitra.x: "${hostile}"`] },
        problems: [`</li>${hostile}`],
        findings: [
          {
            ...contradicted,
            reading: `"><svg onload=alert(3)>`,
            evidence: [`</pre>${hostile}`],
            fix: {
              ...contradicted.fix,
              yaml: `mitra:\n  refund_names: ["</pre>${hostile}"]`,
              caution: hostile,
            },
          },
          { ...notObserved, why: `<a href="javascript:alert(4)">x</a>` },
        ],
      }),
    );
    // An api-id of markup, base64 as §1 spells it: the console shows the claimed id.
    const header = `${Buffer.from(hostile).toString('base64')}:${Buffer.from('ab'.repeat(32)).toString('base64')}`;
    expect((await send(e, 'POST', '/transaction/init', initBody('GL-X'), { header })).status).toBe(401);

    const page = await goLive(e.url);
    expect(page.status).toBe(200);
    expect(page.html).not.toMatch(/<script|<img|<svg|<a href="javascript/i);
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.html).toContain('&lt;/pre&gt;&lt;script&gt;');
    expect(page.html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(page.html).toContain('&quot;&gt;&lt;svg onload=alert(3)&gt;');
    expect(page.html).toContain('&lt;a href=&quot;javascript:alert(4)&quot;&gt;x&lt;/a&gt;');
    // Not vacuous: the hostile api-id reached the failures table, as text.
    expect(row(page.html, 'data-endpoint', 'init')).toContain('not seen yet');
    expect(page.text).toContain(`POST /transaction/init ${hostile}`);
    for (const href of page.html.matchAll(/(?:href|action)="([^"]*)"/g))
      expect(decode(href[1] ?? '')).toMatch(/^\/console(\/|$)/);
  });
});

describe('the last report, as the page reads it', () => {
  const NAME = 'conformance-20260304T050607Z.json';
  let reports: string;
  const setup = async () => {
    dir = await mkdtemp(join(tmpdir(), 'go-live-reader-'));
    reports = join(dir, 'conformance');
    await mkdir(reports);
  };

  it('never follows a symbolic link: the page would show what any readable file begins with', async () => {
    await setup();
    await writeFile(join(dir ?? '', 'secret.env'), 'MITRA_SECRET_KEY=hunter2-very-secret-value\n');
    await symlink(join(dir ?? '', 'secret.env'), join(reports, NAME));
    const last = await lastConformanceReport(reports);
    expect(last).toEqual({
      ok: false,
      file: join(reports, NAME),
      problem: 'a symbolic link, not a report: the console reads regular files only',
    });
    expect(JSON.stringify(last)).not.toContain('hunter2');
  });

  it('never waits on a FIFO named like a report', async () => {
    await setup();
    execFileSync('mkfifo', [join(reports, NAME)]);
    const last = await Promise.race([
      lastConformanceReport(reports),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2000)),
    ]);
    expect(last).toEqual({
      ok: false,
      file: join(reports, NAME),
      problem: 'not a regular file: the console reads regular files only',
    });
  });

  it('refuses a report larger than 20 MiB without reading it', async () => {
    await setup();
    const file = join(reports, NAME);
    await writeFile(file, '');
    await truncate(file, MAX_REPORT_BYTES + 1);
    const last = await lastConformanceReport(reports);
    expect(last?.ok).toBe(false);
    expect(last?.ok === false && last.problem).toBe(
      `too large to show here (${MAX_REPORT_BYTES + 1} bytes, more than ${MAX_REPORT_BYTES}): read it with a text editor`,
    );
  });

  it('reads a report once while its file is unchanged, again once it changes', async () => {
    await setup();
    const file = join(reports, NAME);
    await writeFile(file, JSON.stringify(report()));
    const first = await lastConformanceReport(reports);
    expect(first?.ok).toBe(true);
    // The same object: not parsed again.
    expect(await lastConformanceReport(reports)).toBe(first);
    await writeFile(file, JSON.stringify(report({ problems: ['changed'] })));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const second = await lastConformanceReport(reports);
    expect(second).not.toBe(first);
    expect(second?.ok && second.report.problems).toEqual(['changed']);
  });
});
