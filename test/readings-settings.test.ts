import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { createReadingsStore, loadReadingsFile, parseReadingsText } from '../src/config/readings-file.js';
import { createLogger } from '../src/log.js';
import { classifyReply } from '../src/mitra/outcome.js';
import { orderStatusDataSchema } from '../src/mitra/schemas.js';
import { readWebhook } from '../src/mitra/webhook-payload.js';
import { interpretOrderStatus, textAt } from '../src/readings/mitra.js';
import {
  DEFAULT_READINGS,
  differences,
  parseReadings,
  type Readings,
  readingsVersion,
  settingsOf,
} from '../src/readings/settings.js';
import { type TempDir, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

const readings = (yaml: string): Readings => {
  const r = parseReadingsText(yaml, 'readings.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.value;
};
const refusal = (yaml: string): string[] => {
  const r = parseReadingsText(yaml, 'readings.yaml');
  if (r.ok) throw new Error(`accepted:\n${yaml}`);
  return r.errors;
};
const status = (data: Record<string, unknown>, r: Readings = DEFAULT_READINGS) =>
  interpretOrderStatus(orderStatusDataSchema.parse({ code: 'T1', ...data }), r);

describe('readings as settings', () => {
  it("defaults are today's readings, and an empty or comment-only file changes nothing", () => {
    expect(DEFAULT_READINGS.mitra.order_status).toEqual({ processing: [1], success: [2], failed: [3] });
    expect(DEFAULT_READINGS.mitra.rc.may_exist).toEqual(['23', '26']);
    expect(DEFAULT_READINGS.mitra.balance).toEqual({ path: '/v2/public/balance', word: 'balance' });
    expect(DEFAULT_READINGS.razer.signed_content).toBe('body');
    for (const text of ['', '# nothing yet\n', 'mitra: {}\nrazer: {}\n'])
      expect(differences(readings(text))).toEqual([]);
    expect(readingsVersion(DEFAULT_READINGS)).toBe('default');
  });

  it('lists what differs from the defaults, and names the set by a stable version', () => {
    const r = readings('mitra:\n  order_status:\n    failed: [4]\n  balance:\n    path: null\n');
    expect(differences(r)).toEqual([
      { path: 'mitra.order_status.failed', value: [4], default: [3] },
      { path: 'mitra.balance.path', value: null, default: '/v2/public/balance' },
    ]);
    expect(readingsVersion(r)).toMatch(/^[0-9a-f]{12}$/);
    expect(readingsVersion(readings('mitra: {balance: {path: null}, order_status: {failed: [4]}}'))).toBe(
      readingsVersion(r),
    );
  });

  it('names the file, line, field and reason of every problem', () => {
    expect(refusal('mitra:\n  order_status:\n    failed: three\n')).toEqual([
      'readings.yaml:3: mitra.order_status.failed: must be a list of whole numbers such as [3] (status numbers that mean failed, not delivered)',
    ]);
    expect(refusal('mitra:\n  tid_accept_ref_id: false\n')).toEqual([
      "readings.yaml:2: mitra.tid_accept_ref_id: unknown field 'tid_accept_ref_id'",
    ]);
    expect(refusal('mitra:\n  rc:\n    refused: ["4x"]\n')[0]).toMatch(
      /^readings\.yaml:3: mitra\.rc\.refused\.0: rc codes are two digits/,
    );
    expect(refusal('razer:\n  signed_content: headers\n')).toEqual([
      'readings.yaml:2: razer.signed_content: must be body or uri',
    ]);
    expect(refusal('mitra: [\n')[0]).toMatch(/^readings\.yaml:\d+: YAML syntax error/);
  });

  // The guard rails: settings a typo could produce that would answer Razer 400 for goods delivered
  // (or 200 for goods not delivered). Each is refused with the reason.
  it.each([
    [
      'status 2 read as failed',
      'mitra:\n  order_status:\n    failed: [3, 2]\n',
      /status 2 is both success and failed/,
    ],
    [
      'success and failed swapped',
      'mitra:\n  order_status:\n    success: [3]\n    failed: [2]\n',
      /must include 2/,
    ],
    [
      'processing read as failed',
      'mitra:\n  order_status:\n    failed: [1]\n',
      /status 1 is both processing and failed/,
    ],
    ['processing dropped', 'mitra:\n  order_status:\n    processing: []\n', /must include 1/],
    ['a may-exist rc moved to refused', "mitra:\n  rc:\n    refused: ['23']\n", /rc 23 cannot be a refusal/],
    [
      'already paid moved to refused',
      "mitra:\n  rc:\n    refused: ['26', '44']\n",
      /rc 26 cannot be a refusal/,
    ],
    ['a server error read as refused', 'mitra:\n  rc:\n    refused: [50]\n', /rc 50 cannot be a refusal/],
    ['rate limit read as refused', "mitra:\n  rc:\n    refused: ['45']\n", /rc 45 cannot be a refusal/],
    ['success read as refused', "mitra:\n  rc:\n    refused: ['00']\n", /rc 00 cannot be a refusal/],
    [
      'an undocumented rc read as refused',
      "mitra:\n  rc:\n    refused: ['48']\n",
      /rc 48 is not a refusal Mitra documents/,
    ],
    ['success read as may-exist', "mitra:\n  rc:\n    may_exist: ['00', '23']\n", /rc 00 is success/],
    [
      'a refund name that takes any refund word',
      "mitra:\n  refund_names: ['Refund *']\n",
      /matches "Refund requested", "Refund initiated"/,
    ],
    ['a refund name that says success', 'mitra:\n  refund_names: [Success]\n', /matches "Success"/],
    [
      'a refund name that says it did not happen',
      'mitra:\n  refund_names: [Refund tidak berhasil]\n',
      /matches "Refund tidak berhasil"/,
    ],
    ['a refund name that negates itself', "mitra:\n  refund_names: ['Refund not done']\n", /holds "not"/],
    ['a bare wildcard', "mitra:\n  refund_names: ['*']\n", /a \* may only end a name/],
    ['a wildcard inside a name', "mitra:\n  refund_names: ['Re*fund']\n", /a \* may only end a name/],
    ['a wildcard after too little', "mitra:\n  refund_names: ['Ref *']\n", /at least 6 letters/],
    ['an empty refund name', "mitra:\n  refund_names: ['  ']\n", /must not be empty/],
    ['status 0 read as failed', 'mitra:\n  order_status:\n    failed: [0]\n', /status 0 cannot be failed/],
    [
      'status 0 read as delivered',
      'mitra:\n  order_status:\n    success: [2, 0]\n',
      /status 0 cannot be success/,
    ],
    [
      'status 3 read as delivered',
      'mitra:\n  order_status:\n    success: [2, 3]\n    failed: [4]\n',
      /status 3 cannot be success/,
    ],
    [
      "the voucher code read from the buyer's own data",
      'mitra:\n  voucher_code_at: [detail.customer_data.user_id, detail.voucher_code]\n',
      /detail\.customer_data\.user_id never holds/,
    ],
    [
      'the voucher code read from the history',
      'mitra:\n  voucher_code_at: [history_status.0.status_name]\n',
      /never holds a voucher code/,
    ],
    [
      'the voucher code read from our own ref_id',
      'mitra:\n  voucher_code_at: [ref_id]\n',
      /ref_id never holds a voucher code/,
    ],
    [
      'the voucher code read from the price',
      'mitra:\n  voucher_code_at: [detail.price, sn]\n',
      /detail\.price never holds/,
    ],
    ['no voucher path at all', 'mitra:\n  voucher_code_at: []\n', /must list at least one path/],
    ['a path with a space', "mitra:\n  reason_at: ['detail. sn']\n", /paths are up to four keys/],
    [
      'a balance path that climbs',
      'mitra:\n  balance:\n    path: /v2/../admin\n',
      /must not hold \. or \.\. segments/,
    ],
    [
      'a key that is both trx code and ref_id',
      'mitra:\n  webhook:\n    ref_id_keys: [ref_id, tid]\n',
      /tid is both/,
    ],
  ])('refuses %s', (_name, yaml, reason) => {
    const errors = refusal(yaml);
    expect(errors.some((e) => reason.test(e))).toBe(true);
    expect(errors.every((e) => /^readings\.yaml:\d+: mitra\./.test(e))).toBe(true);
  });

  it('accepts the corrections a real dialect calls for', () => {
    const r = readings(
      [
        'mitra:',
        '  order_status: {processing: [1, 0], failed: [4]}',
        '  voucher_code_at: [detail.code, detail.voucher_code, sn]',
        '  reason_at: [detail.note, sn]',
        '  refund_names: [Refunded, Dana Dikembalikan, Dana dikembalikan ke *]',
        "  webhook: {layers: ['', transaction], trx_code_keys: [invoice], ref_id_keys: [reference]}",
        '  balance: {path: /v2/public/saldo, word: saldo}',
        '  tid_accepts_ref_id: false',
        "  rc: {may_exist: ['23', '26', '27'], refused: ['44']}",
        'razer: {signed_content: uri}',
      ].join('\n'),
    );
    expect(differences(r).map((d) => d.path)).toEqual([
      'mitra.order_status.processing',
      'mitra.order_status.failed',
      'mitra.voucher_code_at',
      'mitra.reason_at',
      'mitra.refund_names',
      'mitra.webhook.layers',
      'mitra.webhook.trx_code_keys',
      'mitra.webhook.ref_id_keys',
      'mitra.balance.path',
      'mitra.balance.word',
      'mitra.tid_accepts_ref_id',
      'mitra.rc.refused',
      'mitra.rc.may_exist',
      'razer.signed_content',
    ]);
    expect(parseReadings({ mitra: { rc: { refused: [44] } } }).data?.mitra.rc.refused).toEqual(['44']);
  });
});

describe('the readings decide, and say which', () => {
  const dialect = readings(
    'mitra:\n  order_status: {processing: [1, 0], failed: [4]}\n  voucher_code_at: [detail.code]\n  reason_at: [detail.note]\n  refund_names: [dana dikembalikan]\n',
  );

  it('reads status numbers by the lists in force, and an unlisted one as unclear, never failed', () => {
    expect(status({ status: 4, detail: { note: 'no stock' } }, dialect)).toEqual({
      kind: 'failed',
      refunded: false,
      reason: 'no stock',
      decidedBy: 'status 4 in mitra.order_status.failed, reason at detail.note',
    });
    expect(status({ status: 0 }, dialect)).toMatchObject({ kind: 'processing' });
    expect(status({ status: 3, sn: 'x' }, dialect)).toMatchObject({
      kind: 'unclear',
      unknownStatus: 3,
      why: 'status 3 is none the gateway reads (1/0 processing, 2 success, 4 failed)',
      decidedBy: 'status 3 in no mitra.order_status list',
    });
    expect(status({ status: 4 })).toMatchObject({ kind: 'unclear', unknownStatus: 4 });
  });

  it('finds the voucher code and the reason at the paths in force, in order', () => {
    expect(status({ status: 2, detail: { code: 'STEAM-1' } }, dialect)).toEqual({
      kind: 'success',
      voucherCode: 'STEAM-1',
      serial: null,
      decidedBy: 'status 2 in mitra.order_status.success, code at detail.code',
    });
    // Under the defaults detail.code is the order's variation code: never taken as a voucher.
    expect(status({ status: 2, detail: { code: 'STEAM-1' } })).toMatchObject({ voucherCode: null });
    expect(status({ status: 2, detail: { voucher_code: ' ' }, sn: 'SN-9' })).toMatchObject({
      voucherCode: 'SN-9',
      decidedBy: 'status 2 in mitra.order_status.success, code at sn',
    });
  });

  it('reads a refund by the names in force, and records which name matched', () => {
    const refunded = {
      history_status: [{ status_name: 'Processing' }, { status_name: 'Dana  Dikembalikan' }],
    };
    expect(status({ status: 4, ...refunded }, dialect)).toMatchObject({
      kind: 'failed',
      refunded: true,
      decidedBy: 'history name "Dana  Dikembalikan" matches mitra.refund_names[0]',
    });
    expect(status({ status: 4, ...refunded })).toMatchObject({ kind: 'unclear', unknownStatus: 4 });
  });

  it("never lets a name the file added overrule a status that says delivered; today's names do", () => {
    const history = (name: string) => ({
      history_status: [{ status_name: 'Success' }, { status_name: name }],
    });
    expect(status({ status: 2, ...history('Dana Dikembalikan') }, dialect)).toMatchObject({
      kind: 'unclear',
      why: 'status 2 says delivered, and history name "Dana Dikembalikan" matches mitra.refund_names[0], a name the readings file added: ask Mitra',
    });
    expect(status({ status: 2, ...history('Refunded') })).toMatchObject({ kind: 'failed', refunded: true });
  });

  it('takes a trailing * for any words that do not negate the refund', () => {
    expect(status({ status: 1, history_status: [{ status_name: 'Refunded to balance' }] })).toMatchObject({
      kind: 'failed',
      refunded: true,
    });
    for (const name of [
      'Refunded to balance failed',
      'Refunded to  wallet: GAGAL',
      'Refunded to balance cancelled',
      'Refunded to',
    ])
      expect(status({ status: 1, history_status: [{ status_name: name }] })).toMatchObject({
        kind: 'processing',
      });
  });

  it('never gives the voucher code as a failure reason (the 400 message reaches the buyer)', () => {
    const code = { detail: { voucher_code: 'STEAM-SECRET' }, sn: 'STEAM-SECRET' };
    expect(status({ status: 3, ...code })).toMatchObject({ kind: 'failed', reason: null });
    expect(status({ status: 1, ...code, history_status: [{ status_name: 'Refund' }] })).toMatchObject({
      kind: 'failed',
      refunded: true,
      reason: null,
    });
    expect(status({ status: 3, sn: 'out of stock' })).toMatchObject({ reason: 'out of stock' });
  });

  it('reads only what the reply itself holds, never what every object inherits', () => {
    expect(textAt({ a: { b: 'x' } }, 'a.b')).toBe('x');
    expect(textAt({ a: 7 }, 'a')).toBe('7');
    expect(textAt({}, 'constructor')).toBeNull();
    expect(textAt({ a: {} }, 'a.toString')).toBeNull();
    expect(textAt({ a: ['x'] }, 'a.0')).toBeNull();
  });

  it('finds webhook references at the layers and keys in force', () => {
    const body = JSON.stringify({
      event: 'x',
      transaction: { invoice: 'TRX9', reference: 'ref-9', status: 2 },
    });
    expect(readWebhook(body)).toEqual({ kind: 'unrecognised', why: 'names no transaction and no product' });
    const r = readings(
      "mitra:\n  webhook: {layers: ['', data, transaction], trx_code_keys: [trx_code, tid, code, invoice], ref_id_keys: [ref_id, reference]}\n",
    );
    expect(readWebhook(body, r)).toEqual({
      kind: 'transaction',
      refs: ['TRX9', 'ref-9'],
      trxCode: 'TRX9',
      reportedStatus: 2,
    });
    // A key inherited by every object names nothing.
    const inherited = readings('mitra:\n  webhook: {trx_code_keys: [constructor]}\n');
    expect(readWebhook('{"a":1}', inherited)).toMatchObject({ kind: 'unrecognised' });
  });

  it('classes rc codes by the lists in force, whatever HTTP status carries them', () => {
    const reply = (rc: string, status: number) => ({
      status,
      body: JSON.stringify({ code: status, status: 'X', rc_code: rc, message: 'm' }),
      retryAfter: null,
    });
    const schema = orderStatusDataSchema;
    expect(classifyReply(reply('23', 409), schema, true, 0)).toMatchObject({
      kind: 'exists',
      httpStatus: 409,
    });
    expect(classifyReply(reply('27', 400), schema, true, 0)).toMatchObject({ kind: 'ambiguous' });
    const r = readings("mitra:\n  rc: {may_exist: ['23', '26', '27']}\n");
    expect(classifyReply(reply('27', 400), schema, true, 0, r)).toMatchObject({ kind: 'exists' });
    // Taken out of refused, a code is ambiguous: reconciled, never answered 400.
    const fewer = readings("mitra:\n  rc: {refused: ['44']}\n");
    expect(classifyReply(reply('24', 400), schema, true, 0, fewer)).toMatchObject({ kind: 'ambiguous' });
    expect(classifyReply(reply('24', 400), schema, true, 0)).toMatchObject({ kind: 'refused' });
  });
});

describe('the readings file', () => {
  it('config/readings.example.yaml holds every setting, each at its default', () => {
    const text = readFileSync('config/readings.example.yaml', 'utf8');
    expect(differences(readings(text))).toEqual([]);
    const keys = (v: unknown, at: string): string[] =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.entries(v).flatMap(([k, inner]) => keys(inner, at ? `${at}.${k}` : k))
        : [at];
    const written = parseDocument(text).toJS() as unknown;
    expect(keys(written, '')).toEqual(keys(settingsOf(DEFAULT_READINGS), ''));
  });

  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('is optional where it is not named, and required where it is', () => {
    expect(loadReadingsFile(dir.file('absent.yaml'), false)).toEqual({ ok: true, value: DEFAULT_READINGS });
    const named = loadReadingsFile(dir.file('absent.yaml'), true);
    expect(named.ok).toBe(false);
    expect(!named.ok && named.errors[0]).toMatch(/absent\.yaml: cannot read the readings file/);
  });

  it('refuses a file that became empty or went away while settings were in force, and says what went back', () => {
    const file = dir.file('readings.yaml');
    const custom =
      'mitra:\n  order_status:\n    processing: [1, 3]\n    failed: [4]\n  tid_accepts_ref_id: false\n';
    writeFileSync(file, custom);
    const lines: string[] = [];
    const initial = readings(custom);
    const store = createReadingsStore(
      file,
      false,
      initial,
      createLogger('info', { write: (l) => lines.push(l) }),
    );
    try {
      for (const emptied of ['', '# nothing\n', '~\n']) {
        writeFileSync(file, emptied);
        const r = store.reload();
        expect(r.ok).toBe(false);
        expect(!r.ok && r.errors[0]).toMatch(/the readings file is empty; the readings in force stay/);
        expect(store.current()).toBe(initial);
      }
      rmSync(file);
      const gone = store.reload();
      expect(!gone.ok && gone.errors[0]).toMatch(/the readings file is gone; the readings in force stay/);
      // Going back on purpose is written out: it takes effect, and the warning lists what went back.
      writeFileSync(file, 'mitra:\n  tid_accepts_ref_id: false\n');
      expect(store.reload().ok).toBe(true);
      const warning = JSON.parse(lines.at(-1) ?? '{}') as { level: number; msg: string };
      expect(warning.level).toBe(40);
      expect(warning.msg).toBe(
        'readings reloaded: 2 settings back to the default: mitra.order_status.processing, mitra.order_status.failed',
      );
    } finally {
      store.close();
    }
  });

  it('reloads what the watcher sees only once the file has held still for a poll', async () => {
    const file = dir.file('readings.yaml');
    writeFileSync(file, '');
    const store = createReadingsStore(file, true, DEFAULT_READINGS, createLogger('silent'));
    try {
      store.watch(20);
      writeFileSync(file, 'mitra:\n  order_status:\n    failed: [4]\n');
      await waitFor(() => store.current().mitra.order_status.failed[0] === 4, 5000);
    } finally {
      store.close();
    }
  });

  it('takes effect on reload; a bad edit keeps the readings in force and says why', () => {
    const file = dir.file('readings.yaml');
    writeFileSync(file, '');
    const lines: string[] = [];
    const store = createReadingsStore(
      file,
      true,
      DEFAULT_READINGS,
      createLogger('info', { write: (l) => lines.push(l) }),
    );
    try {
      writeFileSync(file, 'mitra:\n  order_status:\n    failed: [4]\n');
      expect(store.reload().ok).toBe(true);
      expect(store.current().mitra.order_status.failed).toEqual([4]);
      expect(lines.at(-1)).toContain('mitra.order_status.failed: [4]');
      writeFileSync(file, 'mitra:\n  order_status:\n    failed: [2]\n');
      const refused = store.reload();
      expect(refused.ok).toBe(false);
      expect(store.current().mitra.order_status.failed).toEqual([4]);
      expect(lines.at(-1)).toMatch(/readings reload refused: the running readings stays in force/);
    } finally {
      store.close();
    }
  });
});
