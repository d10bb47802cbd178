import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { capSource, OTHER_SOURCES, WebhookCap, type WindowSummary } from '../src/mitra/webhook-cap.js';
import { keptBody, UNRECOGNISED_KEPT_BYTES, utf8Start } from '../src/mitra/webhook-payload.js';

/** A cap of 3 rows and 1000 bytes a minute, on a clock the test moves. */
function capWith(options: { maxSources?: number } = {}) {
  let t = 1_000_000;
  const ended: WindowSummary[] = [];
  const cap = new WebhookCap({
    rows: 3,
    bytes: 1000,
    windowMs: 60_000,
    now: () => t,
    onWindowEnd: (w) => ended.push(w),
    ...options,
  });
  return {
    cap,
    ended,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('the webhook cap', () => {
  it('takes a source’s rows up to the cap, then refuses until its window ends; the next window takes again', () => {
    const { cap, advance, ended } = capWith();
    for (let i = 0; i < 3; i++) expect(cap.take('10.0.0.1', 10)).toEqual({ ok: true });
    advance(15_000);
    expect(cap.take('10.0.0.1', 10)).toEqual({
      ok: false,
      source: '10.0.0.1',
      over: 'rows',
      retryAfterMs: 45_000,
      first: true,
    });
    expect(cap.check('10.0.0.1')).toMatchObject({ ok: false, over: 'rows', first: false });
    expect(cap.take('10.0.0.1', 10)).toMatchObject({ ok: false, first: false });
    advance(44_999);
    expect(cap.check('10.0.0.1')).toMatchObject({ ok: false, retryAfterMs: 1 });
    expect(ended).toEqual([]);
    advance(1);
    expect(cap.check('10.0.0.1')).toEqual({ ok: true });
    expect(ended).toEqual([{ source: '10.0.0.1', rows: 3, bytes: 30, refused: 4 }]);
    expect(cap.take('10.0.0.1', 10)).toEqual({ ok: true });
  });

  it('refuses before the body is read once the rows are used up', () => {
    const { cap } = capWith();
    expect(cap.check('10.0.0.1')).toEqual({ ok: true });
    for (let i = 0; i < 3; i++) cap.take('10.0.0.1', 1);
    expect(cap.check('10.0.0.1')).toMatchObject({ ok: false, over: 'rows', first: true });
  });

  it('refuses a webhook that would pass the bytes, counts nothing of it, and stays refused for the window', () => {
    const { cap, advance, ended } = capWith();
    expect(cap.take('10.0.0.1', 600)).toEqual({ ok: true });
    expect(cap.take('10.0.0.1', 400)).toEqual({ ok: true });
    expect(cap.take('10.0.0.1', 1)).toMatchObject({ ok: false, over: 'bytes', first: true });
    // Even one that would fit the rows: the source went over, the rest of its window is refused.
    expect(cap.check('10.0.0.1')).toMatchObject({ ok: false, over: 'bytes' });
    advance(60_000);
    expect(cap.take('10.0.0.1', 1000)).toEqual({ ok: true });
    expect(ended).toEqual([{ source: '10.0.0.1', rows: 2, bytes: 1000, refused: 2 }]);

    const big = capWith();
    expect(big.cap.take('10.0.0.2', 600)).toEqual({ ok: true });
    expect(big.cap.take('10.0.0.2', 500)).toMatchObject({ ok: false, over: 'bytes' });
    expect(big.cap.check('10.0.0.2')).toMatchObject({ ok: false, over: 'bytes', first: false });
  });

  it('counts each source on its own', () => {
    const { cap } = capWith();
    for (let i = 0; i < 4; i++) cap.take('10.0.0.1', 1);
    expect(cap.check('10.0.0.1').ok).toBe(false);
    expect(cap.take('10.0.0.2', 1)).toEqual({ ok: true });
    expect(cap.take('2001:db8::1', 1)).toEqual({ ok: true });
  });

  it('tracks a bounded number of sources: the ones past it share one window, and ended windows are dropped', () => {
    const { cap, advance, ended } = capWith({ maxSources: 4 });
    for (let i = 0; i < 4; i++) expect(cap.take(`10.0.1.${i}`, 1)).toEqual({ ok: true });
    // A thousand more addresses (spoofed, or an IPv6 range): one more window, shared.
    const verdicts = Array.from({ length: 1000 }, (_, i) => cap.take(`10.0.2.${i}`, 1));
    expect(verdicts.filter((v) => v.ok)).toHaveLength(3);
    expect(verdicts[3]).toMatchObject({ ok: false, source: OTHER_SOURCES, over: 'rows', first: true });
    expect(cap.tracked).toBe(5);
    // A tracked source keeps its own window.
    expect(cap.take('10.0.1.0', 1)).toEqual({ ok: true });
    advance(60_000);
    expect(cap.tracked).toBe(0);
    expect(ended).toHaveLength(5);
    expect(ended.find((w) => w.source === OTHER_SOURCES)).toEqual({
      source: OTHER_SOURCES,
      rows: 3,
      bytes: 3,
      refused: 997,
    });
    // Room again: a new address has a window of its own.
    expect(cap.take('10.0.2.500', 1)).toEqual({ ok: true });
    expect(cap.check('10.0.2.500')).toEqual({ ok: true });
  });

  it('ends a window when the clock is set back, rather than holding a source refused', () => {
    const { cap, advance } = capWith();
    for (let i = 0; i < 4; i++) cap.take('10.0.0.1', 1);
    expect(cap.check('10.0.0.1').ok).toBe(false);
    advance(-1000);
    expect(cap.check('10.0.0.1')).toEqual({ ok: true });
  });
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('what is kept of a webhook body', () => {
  it('keeps what Mitra sends whole, however long', () => {
    const transaction = JSON.stringify({ data: { trx_code: 'VCG-1', status: 2, note: 'é'.repeat(5000) } });
    expect(keptBody(transaction)).toMatchObject({
      meaning: { kind: 'transaction' },
      body: transaction,
      bodySha256: sha256(transaction),
      cut: null,
    });
    const product = JSON.stringify({ brand_key: 'MLBB', pad: 'x'.repeat(5000) });
    expect(keptBody(product)).toMatchObject({ meaning: { kind: 'product' }, body: product, cut: null });
  });

  it('keeps a short body nothing reads whole', () => {
    const body = 'x'.repeat(UNRECOGNISED_KEPT_BYTES);
    expect(keptBody(body)).toMatchObject({ meaning: { kind: 'unrecognised' }, body, cut: null });
  });

  it('keeps a long body nothing reads as its hash and its first KiB, cut between characters', () => {
    const euros = '€'.repeat(2000); // 3 bytes each: 1024 falls inside the 342nd
    expect(keptBody(euros)).toEqual({
      meaning: { kind: 'unrecognised', why: 'not JSON' },
      body: '€'.repeat(341),
      bodySha256: sha256(euros),
      cut: { kept: 1023, of: 6000 },
    });
    const faces = `ab${'😀'.repeat(600)}`; // a surrogate pair, 4 bytes each
    const kept = keptBody(faces);
    expect(kept.body).toBe(`ab${'😀'.repeat(255)}`);
    expect(kept.cut).toEqual({ kept: 1022, of: 2402 });
    expect(Buffer.from(kept.body, 'utf8').toString('utf8')).toBe(kept.body);
  });

  it('keeps any JSON whole, whatever its shape: the readings may not know what Mitra really sends', () => {
    for (const body of [
      JSON.stringify({ hello: 'wörld', pad: 'x'.repeat(5000) }),
      JSON.stringify({ data: [{ trx_code: 'VCG1', ref_id: 'RG-1', status: 2, sn: 'x'.repeat(2000) }] }),
      JSON.stringify({ data: { trx_code: 123456, ref_id: 42, status: 2, history: 'h'.repeat(2000) } }),
      JSON.stringify([{ key: 'MLBB', price: 15000, pad: 'p'.repeat(2000) }]),
    ]) {
      const kept = keptBody(body);
      expect(kept.meaning.kind).toBe('unrecognised');
      expect(kept).toMatchObject({ body, cut: null, bodySha256: sha256(body) });
    }
  });

  it('cuts on a character boundary at every length', () => {
    const text = 'aé€😀'.repeat(10);
    for (let max = 0; max <= Buffer.byteLength(text); max++) {
      const start = utf8Start(text, max);
      expect(start.bytes).toBe(Buffer.byteLength(start.text));
      expect(start.bytes).toBeLessThanOrEqual(max);
      expect(start.bytes).toBeGreaterThan(max - 4);
      expect(text.startsWith(start.text)).toBe(true);
      expect(start.text).not.toMatch(/[\uD800-\uDBFF]$/);
    }
  });
});

describe('the source a cap counts', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2600:3c15::f03c:95ff:fe98:ef07', '2600:3c15:0:0::/64'],
    ['2600:3c15:0:0:1:2:3:4', '2600:3c15:0:0::/64'],
    ['2600:3C15:0000:0000::', '2600:3c15:0:0::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8:1:2::192.0.2.1', '2001:db8:1:2::/64'],
  ])('%s counts as %s', (ip, source) => {
    expect(capSource(ip)).toBe(source);
  });
});
