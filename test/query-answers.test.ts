import { describe, expect, it } from 'vitest';
import { MAX_KEPT_REQUEST_CHARS, QueryAnswers } from '../src/razer/query-answers.js';

const answer = (text: string, status = 200) => ({ status, text, headers: { 'x-razer-signature': 'sig' } });

describe("an instance's memory of its query answers", () => {
  it('knows a repeat only when status and text are the same as last recorded', () => {
    const memory = new QueryAnswers();
    expect(memory.repeats('N1', answer('{"a":1}', 408))).toBe(false);
    memory.recorded('N1', answer('{"a":1}', 408));
    expect(memory.repeats('N1', answer('{"a":1}', 408))).toBe(true);
    expect(memory.repeats('N1', answer('{"a":1}', 200))).toBe(false);
    expect(memory.repeats('N1', answer('{"a":2}', 408))).toBe(false);
    expect(memory.repeats('N2', answer('{"a":1}', 408))).toBe(false);
  });

  it('serves a kept final answer only for the same target and the whole same signature', () => {
    const memory = new QueryAnswers();
    memory.keepFinal('/transaction/N1', 'AAAA:BBBB', 'N1', answer('{"ok":1}'));
    expect(memory.final('/transaction/N1', 'AAAA:BBBB')?.answer.text).toBe('{"ok":1}');
    for (const wrong of ['AAAA:BBBC', 'AAAA:BBB', 'AAAA:BBBBB', '', 'aaaa:bbbb'])
      expect(memory.final('/transaction/N1', wrong), wrong).toBeUndefined();
    expect(memory.final('/transaction/N1?x=1', 'AAAA:BBBB')).toBeUndefined();
    expect(memory.final('/transaction/N2', 'AAAA:BBBB')).toBeUndefined();
  });

  it("keeps of a final answer only its status, text and headers, not the caller's exchange record (soak: heap growth)", () => {
    const memory = new QueryAnswers();
    const finished = {
      ...answer('{"ok":1}'),
      exchange: { requestBody: 'x'.repeat(1000), responseHeaders: {} },
    };
    memory.keepFinal('/transaction/N1', 'AAAA:BBBB', 'N1', finished);
    const kept = memory.final('/transaction/N1', 'AAAA:BBBB');
    expect(kept?.answer).toEqual(answer('{"ok":1}'));
    expect(Object.keys(kept?.answer ?? {})).toEqual(['status', 'text', 'headers']);
    // Nor a pooled Buffer for the signature, which would hold an 8 KB pool per few entries.
    expect(kept?.signature.buffer.byteLength).toBe('AAAA:BBBB'.length);
    // A copy of the headers: the server writes Content-Length into the object it was given.
    (finished.headers as Record<string, string>)['content-length'] = '8';
    expect(memory.final('/transaction/N1', 'AAAA:BBBB')?.answer.headers).toEqual({
      'x-razer-signature': 'sig',
    });
  });

  it('does not keep the answer to a request padded past 512 characters of target and signature', () => {
    const memory = new QueryAnswers();
    const signature = `AAAA${' '.repeat(MAX_KEPT_REQUEST_CHARS)}:BBBB`;
    memory.keepFinal('/transaction/N1', signature, 'N1', answer('{"ok":1}'));
    expect(memory.final('/transaction/N1', signature)).toBeUndefined();
    expect(memory.sizes.final).toBe(0);
    const fits = 'A'.repeat(MAX_KEPT_REQUEST_CHARS - '/transaction/N1'.length);
    memory.keepFinal('/transaction/N1', fits, 'N1', answer('{"ok":1}'));
    expect(memory.final('/transaction/N1', fits)?.transactionNumber).toBe('N1');
  });

  it('stays within its capacity, dropping the oldest first', () => {
    const memory = new QueryAnswers(3);
    for (const n of ['A', 'B', 'C', 'D']) {
      memory.recorded(n, answer(n));
      memory.keepFinal(`/t/${n}`, 'S', n, answer(n));
    }
    expect(memory.sizes).toEqual({ recorded: 3, final: 3 });
    expect(memory.repeats('A', answer('A'))).toBe(false);
    expect(memory.repeats('D', answer('D'))).toBe(true);
    expect(memory.final('/t/A', 'S')).toBeUndefined();
    expect(memory.final('/t/B', 'S')?.transactionNumber).toBe('B');
  });

  it('forgets what is older than its age limit, so memory stays flat under steady traffic', () => {
    let now = 0;
    const memory = new QueryAnswers(1000, 60_000, () => now);
    memory.recorded('OLD', answer('x'));
    memory.keepFinal('/t/OLD', 'S', 'OLD', answer('x'));
    now = 59_999;
    expect(memory.repeats('OLD', answer('x'))).toBe(true);
    now = 60_000;
    expect(memory.repeats('OLD', answer('x'))).toBe(false);
    expect(memory.final('/t/OLD', 'S')).toBeUndefined();
    // Steady traffic: one new transaction a second for ten minutes holds about a minute's worth.
    for (let i = 0; i < 600; i++) {
      now += 1000;
      memory.recorded(`N${i}`, answer('y'));
      memory.keepFinal(`/t/N${i}`, 'S', `N${i}`, answer('y'));
    }
    expect(memory.sizes).toEqual({ recorded: 60, final: 60 });
  });
});
