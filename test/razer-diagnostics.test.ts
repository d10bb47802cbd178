import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { RazerContact, TokenBucket } from '../src/razer/contact.js';
import {
  ALTERNATIVE_IDS,
  type AlternativeId,
  type Diagnosis,
  diagnose,
  type FailedRequest,
  MAX_DIAGNOSIS_HMACS,
} from '../src/razer/diagnose.js';
import type { RazerCredential } from '../src/razer/signature.js';
import { requestSignedContent, type SignedContentMode } from '../src/readings/razer.js';
import { T0 } from './helpers/fixtures.js';
import {
  API_ID,
  API_KEY,
  initBody,
  type RazerHarness,
  type SendOptions,
  send,
  startRazer,
} from './helpers/razer.js';

/** Issue 23 §4: a refused signature says which other reading would have verified it; never accepts it. */

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const hmac = (key: string, content: Buffer) => createHmac('sha256', key).update(content);
const hexOf = (key: string, content: Buffer) => hmac(key, content).digest('hex');

interface LogLine {
  level: number;
  msg: string;
  endpoint?: string;
  diagnosis?: Diagnosis;
  [field: string]: unknown;
}

interface Setup {
  h: RazerHarness;
  contact: RazerContact;
  clock: { now: number };
  lines: LogLine[];
  diagnoses: () => number;
  hmacs: () => number;
}

let open: RazerHarness | null = null;
afterEach(async () => {
  await open?.close();
  open = null;
});

/** A harness whose onboarding record counts its diagnoses and their HMACs, on a clock that moves only when told. */
async function setup(
  options: { mode?: SignedContentMode; credentials?: RazerCredential[] } = {},
): Promise<Setup> {
  const clock = { now: T0 };
  const lines: LogLine[] = [];
  let diagnoses = 0;
  let hmacs = 0;
  const contact = new RazerContact({
    now: () => clock.now,
    diagnose: (request) => {
      diagnoses++;
      return diagnose(request, (key, content) => {
        hmacs++;
        return hmac(key, content).digest();
      });
    },
  });
  const logger = createLogger('info', {
    write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
  });
  const h = await startRazer({ mode: options.mode ?? 'body', logger, contact });
  if (options.credentials) h.deps.credentials = options.credentials;
  open = h;
  return { h, contact, clock, lines, diagnoses: () => diagnoses, hmacs: () => hmacs };
}

const refusals = (lines: LogLine[]) => lines.filter((l) => l.msg === 'razer request refused: 401');
const ids = (d: Diagnosis | undefined) => (d?.outcome === 'matched' ? d.findings.map((f) => f.id) : []);

/** The body-mode content of an init the way §1 signs it, with `text` as the body. */
const initContent = (text: string, uri = '/transaction/init') =>
  requestSignedContent('body', 'POST', uri, Buffer.from(text, 'utf8'));
const INIT_TEXT = JSON.stringify(initBody('TX-D'));
const INIT_HEX = hexOf(API_KEY, initContent(INIT_TEXT));

interface Case {
  id: AlternativeId;
  mode?: SignedContentMode;
  credentials?: RazerCredential[];
  method?: 'GET' | 'POST';
  path?: string;
  body?: unknown;
  send?: SendOptions;
  /** Words the finding's text must carry (the fix). */
  says: string;
}

const CASES: Case[] = [
  { id: 'signed-content-uri', send: { mode: 'uri' }, says: 'set razer.signed_content: uri' },
  { id: 'signed-content-body', mode: 'uri', send: { mode: 'body' }, says: 'set razer.signed_content: body' },
  {
    id: 'uri-without-query',
    path: '/transaction/init?channel=web',
    send: { signPath: '/transaction/init' },
    says: 'without its query string',
  },
  {
    id: 'uri-decoded',
    method: 'GET',
    path: '/transaction/TX%2D1',
    body: undefined,
    send: { signPath: '/transaction/TX-1' },
    says: 'percent-decoded path',
  },
  { id: 'body-trailing-newline', send: { signBody: `${INIT_TEXT}\n` }, says: 'trailing newline' },
  {
    id: 'body-without-trailing-newline',
    body: `${INIT_TEXT}\n`,
    send: { signBody: INIT_TEXT },
    says: 'without the trailing newline',
  },
  {
    id: 'method-lower-case',
    method: 'GET',
    path: '/transaction/TX-1',
    body: undefined,
    send: { header: `${b64(API_ID)}:${b64(hexOf(API_KEY, Buffer.from('get/transaction/TX-1')))}` },
    says: 'verb in lower case',
  },
  {
    id: 'other-api-id-key',
    credentials: [
      { apiId: API_ID, keys: [API_KEY] },
      { apiId: 'publisherB', keys: ['key-of-b'] },
    ],
    send: { key: 'key-of-b' },
    says: 'the key of api-id publisherB while sending api-id publisherA',
  },
  {
    id: 'retired-key',
    credentials: [{ apiId: API_ID, keys: ['the-new-key'], retiredKeys: [API_KEY] }],
    says: 'retired key of api-id publisherA',
  },
  {
    id: 'api-id-not-configured',
    send: { apiId: 'razerGold' },
    says: 'sends api-id razerGold, which is not configured, but signs with the key of api-id publisherA',
  },
  { id: 'api-id-not-base64', send: { header: `${API_ID}:${b64(INIT_HEX)}` }, says: 'api-id as plain text' },
  {
    id: 'hex-not-base64',
    send: { header: `${b64(API_ID)}:${INIT_HEX}` },
    says: 'hex signature without base64',
  },
  {
    id: 'base64-raw-digest',
    send: {
      header: `${b64(API_ID)}:${hmac(API_KEY, initContent(INIT_TEXT)).digest('base64')}`,
    },
    says: 'raw digest',
  },
  { id: 'header-base64-whole', send: { header: b64(`${API_ID}:${INIT_HEX}`) }, says: 'as one piece' },
];

describe('a request signed another way', () => {
  it('covers every alternative the diagnosis knows', () => {
    expect(CASES.map((c) => c.id).sort()).toEqual([...ALTERNATIVE_IDS].sort());
  });

  it.each(CASES)('$id: refused with 401, and the diagnosis names exactly it', async (c) => {
    const s = await setup({
      ...(c.mode ? { mode: c.mode } : {}),
      ...(c.credentials ? { credentials: c.credentials } : {}),
    });
    const method = c.method ?? 'POST';
    const body = 'body' in c ? c.body : method === 'POST' ? INIT_TEXT : undefined;
    const reply = await send(s.h, method, c.path ?? '/transaction/init', body, c.send ?? {});

    expect(reply.status).toBe(401);
    expect(reply.json.code).toBe('UNAUTHORIZED');
    expect(reply.signature).toBeNull();
    expect(await s.h.count('transactions')).toBe(0);

    const [line, ...more] = refusals(s.lines);
    expect(more).toEqual([]);
    expect(ids(line?.diagnosis)).toEqual([c.id]);
    const finding = line?.diagnosis?.outcome === 'matched' ? line.diagnosis.findings[0] : undefined;
    expect(finding?.text).toContain(c.says);
    // Nothing a key could be read from.
    const text = JSON.stringify(s.lines);
    for (const key of [API_KEY, 'key-of-b', 'the-new-key']) expect(text).not.toContain(key);

    const failures = s.contact.snapshot().failures;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ at: T0, method, diagnosis: line?.diagnosis });
  });

  it('lists each departure when a header needs several fixes', async () => {
    const s = await setup();
    const reply = await send(s.h, 'POST', '/transaction/init', INIT_TEXT, {
      header: `${API_ID}:${INIT_HEX}`,
    });
    expect(reply.status).toBe(401);
    expect(ids(refusals(s.lines)[0]?.diagnosis)).toEqual(['api-id-not-base64', 'hex-not-base64']);
  });

  it('says why when no alternative verifies (a wrong key, a missing header)', async () => {
    const s = await setup();
    expect((await send(s.h, 'POST', '/transaction/init', INIT_TEXT, { key: 'some-other-key' })).status).toBe(
      401,
    );
    expect((await send(s.h, 'POST', '/transaction/init', INIT_TEXT, { header: null })).status).toBe(401);
    const [wrongKey, missing] = refusals(s.lines).map((l) => l.diagnosis);
    expect(wrongKey).toEqual({ outcome: 'unmatched', reason: expect.stringContaining('wrong key?') });
    expect(missing).toEqual({
      outcome: 'unmatched',
      reason: expect.stringContaining('no X-Razer-Signature header'),
    });
    // The request without a header is counted, not kept.
    expect(s.contact.snapshot().failures.map((f) => f.apiId)).toEqual([API_ID]);
    expect(s.contact.snapshot().unsigned).toBe(1);
  });

  it('diagnoses a health check whose signature fails, still answering it unsigned', async () => {
    const s = await setup();
    const reply = await send(s.h, 'GET', '/health', undefined, { mode: 'uri', key: 'some-other-key' });
    expect(reply).toMatchObject({ status: 200, text: 'OK', signature: null });
    const line = s.lines.find((l) => l.endpoint === 'health');
    expect(line).toMatchObject({ diagnosis: { outcome: 'unmatched' } });
    expect(s.contact.snapshot().failures[0]).toMatchObject({ endpoint: 'health', path: '/health' });
  });
});

describe('a correctly signed request', () => {
  it('is answered as before, costs no diagnosis, and its endpoint is recorded once', async () => {
    const s = await setup();
    const first = await send(s.h, 'POST', '/transaction/init', initBody('TX-OK1'));
    const second = await send(s.h, 'POST', '/transaction/init', initBody('TX-OK2'));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.signature).not.toBeNull();
    s.clock.now += 5000;
    // Initiated and never topped up: closed by the query (razer-side §3), a verified, signed 400.
    const query = await send(s.h, 'GET', '/transaction/TX-OK1');
    expect(query.status).toBe(400);
    expect(query.signature).not.toBeNull();
    expect((await send(s.h, 'GET', '/health')).signature).not.toBeNull();
    expect(s.diagnoses()).toBe(0);
    expect(refusals(s.lines)).toEqual([]);

    const firsts = s.lines.filter((l) => l.msg.startsWith('first verified Razer request'));
    expect(firsts.map((l) => l.msg)).toEqual([
      'first verified Razer request for /transaction/init: signed content body, api-id publisherA',
      'first verified Razer request for /transaction/{transactionNumber}: signed content body, api-id publisherA',
      'first verified Razer request for /health: signed content body, api-id publisherA',
    ]);
    expect(firsts.every((l) => l.level === 30)).toBe(true);

    const endpoints = s.contact.snapshot().endpoints;
    expect(endpoints.map((e) => e.name)).toEqual(['init', 'topup', 'query', 'cancel', 'validate', 'health']);
    expect(endpoints.find((e) => e.name === 'init')).toEqual({
      name: 'init',
      firstVerifiedAt: T0,
      mode: 'body',
      apiId: API_ID,
      hexCase: 'lower',
    });
    expect(endpoints.find((e) => e.name === 'query')).toMatchObject({ firstVerifiedAt: T0 + 5000 });
    expect(endpoints.find((e) => e.name === 'topup')).toEqual({
      name: 'topup',
      firstVerifiedAt: null,
      mode: null,
      apiId: null,
      hexCase: null,
    });
  });

  it('in upper-case hex still verifies (as before), and the first record says so', async () => {
    const s = await setup();
    const upper = `${b64(API_ID)}:${b64(hexOf(API_KEY, initContent(INIT_TEXT)).toUpperCase())}`;
    expect((await send(s.h, 'POST', '/transaction/init', INIT_TEXT, { header: upper })).status).toBe(200);
    expect(s.contact.snapshot().endpoints[0]).toMatchObject({ name: 'init', hexCase: 'upper' });
    expect(s.lines.find((l) => l.msg.startsWith('first verified'))?.msg).toContain('hex in upper case');
  });

  it('is read with the signed-content mode of the moment (a reload takes effect)', async () => {
    const s = await setup();
    s.h.deps.signedContent = () => 'uri';
    expect((await send(s.h, 'POST', '/transaction/init', initBody('TX-R1'), { mode: 'uri' })).status).toBe(
      200,
    );
    expect((await send(s.h, 'POST', '/transaction/init', initBody('TX-R2'))).status).toBe(401);
    expect(ids(refusals(s.lines)[0]?.diagnosis)).toEqual(['signed-content-body']);
    expect(s.contact.snapshot().endpoints[0]).toMatchObject({ mode: 'uri' });
  });
});

describe('the cost bound', () => {
  it('under a flood, diagnoses only what the bucket allows; the rest say skipped and cost no HMAC', async () => {
    const s = await setup();
    const statuses: number[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 50 }, () => send(s.h, 'POST', '/transaction/init', INIT_TEXT, { mode: 'uri' })),
      );
      statuses.push(...replies.map((r) => r.status));
    }
    expect(statuses).toHaveLength(1000);
    expect(statuses.every((st) => st === 401)).toBe(true);
    expect(s.h.unauthorized).toHaveLength(1000);

    expect(s.diagnoses()).toBe(5);
    expect(s.hmacs()).toBeGreaterThan(0);
    expect(s.hmacs()).toBeLessThanOrEqual(5 * MAX_DIAGNOSIS_HMACS);
    const lines = refusals(s.lines);
    expect(lines).toHaveLength(1000);
    expect(lines.filter((l) => l.diagnosis?.outcome === 'matched')).toHaveLength(5);
    expect(lines.filter((l) => l.diagnosis?.outcome === 'skipped').map((l) => l.diagnosis)).toEqual(
      Array(995).fill({ outcome: 'skipped', reason: 'diagnosis skipped: rate bound' }),
    );
    const snapshot = s.contact.snapshot();
    expect(snapshot.failures).toHaveLength(5);
    expect(snapshot.skippedDiagnoses).toBe(995);

    // A second later the bucket has refilled.
    s.clock.now += 1000;
    await send(s.h, 'POST', '/transaction/init', INIT_TEXT, { mode: 'uri' });
    expect(s.diagnoses()).toBe(6);
  });

  it('keeps the last 20 diagnoses of unknown api-ids, and the last 5 of each configured one', async () => {
    const s = await setup();
    for (let i = 0; i < 25; i++) {
      s.clock.now += 1000;
      await send(s.h, 'GET', `/transaction/TX-${i}`, undefined, {
        apiId: 'someone-else',
        key: 'some-other-key',
      });
    }
    let failures = s.contact.snapshot().failures;
    expect(failures).toHaveLength(20);
    expect(failures[0]).toMatchObject({ path: '/transaction/TX-5', at: T0 + 6000 });
    expect(failures[19]).toMatchObject({ path: '/transaction/TX-24', at: T0 + 25_000 });
    for (let i = 0; i < 7; i++) {
      s.clock.now += 1000;
      await send(s.h, 'GET', `/transaction/OURS-${i}`, undefined, { key: 'some-other-key' });
    }
    failures = s.contact.snapshot().failures;
    expect(failures).toHaveLength(25);
    expect(failures.filter((f) => f.apiId === API_ID).map((f) => f.path)).toEqual(
      [2, 3, 4, 5, 6].map((i) => `/transaction/OURS-${i}`),
    );
  });

  it('a request without a signature header is only counted: it spends no diagnosis and keeps no entry', async () => {
    const s = await setup();
    // Internet noise: 100 unsigned requests within one millisecond of the clock.
    const noise = await Promise.all(
      Array.from({ length: 100 }, () => send(s.h, 'POST', '/transaction/init', INIT_TEXT, { header: null })),
    );
    expect(noise.every((r) => r.status === 401)).toBe(true);
    // Razer's call right after, signed the `uri` way: still diagnosed, the bound untouched.
    expect((await send(s.h, 'POST', '/transaction/init', INIT_TEXT, { mode: 'uri' })).status).toBe(401);
    expect(s.diagnoses()).toBe(1);
    const snapshot = s.contact.snapshot();
    expect(snapshot.unsigned).toBe(100);
    expect(snapshot.skippedDiagnoses).toBe(0);
    expect(snapshot.failures).toHaveLength(1);
    expect(snapshot.failures[0]).toMatchObject({ apiId: API_ID, diagnosis: { outcome: 'matched' } });
    // Each still says why in its log line.
    expect(refusals(s.lines).filter((l) => l.diagnosis?.outcome === 'unmatched')).toHaveLength(100);
  });

  it("keeps a configured api-id's last failures apart: noise claiming other api-ids cannot push them out", () => {
    let now = T0;
    const contact = new RazerContact({ now: () => now, perSecond: 1000, burst: 1000 });
    const credentials: RazerCredential[] = [{ apiId: API_ID, keys: [API_KEY] }];
    const refuse = (apiId: string, path: string) => {
      now += 10;
      contact.refused({
        endpoint: 'init',
        method: 'POST',
        path,
        request: {
          header: `${b64(apiId)}:${b64('0'.repeat(64))}`,
          credentials,
          mode: 'body',
          method: 'POST',
          uri: '/transaction/init',
          body: Buffer.from(INIT_TEXT),
        },
      });
    };
    for (let i = 0; i < 7; i++) refuse(API_ID, `/razer-${i}`);
    for (let i = 0; i < 100; i++) refuse(`scanner-${i}`, `/noise-${i}`);
    const failures = contact.snapshot().failures;
    // The last 5 of the configured api-id, and the last 20 of the others, oldest first.
    expect(failures.filter((f) => f.apiId === API_ID).map((f) => f.path)).toEqual([
      '/razer-2',
      '/razer-3',
      '/razer-4',
      '/razer-5',
      '/razer-6',
    ]);
    expect(failures.filter((f) => f.apiId !== API_ID)).toHaveLength(20);
    expect(failures.at(-1)?.path).toBe('/noise-99');
    expect(failures.map((f) => f.at)).toEqual([...failures.map((f) => f.at)].sort((a, b) => a - b));
  });

  it('bounds the HMACs of one diagnosis, however many keys are configured', () => {
    let count = 0;
    const credentials = Array.from({ length: 20 }, (_, i) => ({
      apiId: `api-${i}`,
      keys: Array.from({ length: 5 }, (_, k) => `key-${i}-${k}`),
      retiredKeys: [`old-${i}`],
    }));
    const body = Buffer.alloc(64 * 1024, 0x61);
    const request: FailedRequest = {
      header: `${b64('api-0')}:${b64('0'.repeat(64))}`,
      credentials,
      mode: 'body',
      method: 'POST',
      uri: '/transaction/init?a=%41',
      body,
    };
    const diagnosis = diagnose(request, (key, content) => {
      count++;
      return hmac(key, content).digest();
    });
    expect(count).toBe(MAX_DIAGNOSIS_HMACS);
    expect(diagnosis).toEqual({ outcome: 'unmatched', reason: expect.stringContaining('stopped after') });
  });

  it('a token bucket: burst, then the rate, never more after a quiet spell than the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(() => now, 5, 5);
    const take = (n: number) => Array.from({ length: n }, () => bucket.take()).filter(Boolean).length;
    expect(take(10)).toBe(5);
    now += 200;
    expect(take(10)).toBe(1);
    now += 60_000;
    expect(take(10)).toBe(5);
    now -= 10_000;
    expect(take(10)).toBe(0);
  });
});
