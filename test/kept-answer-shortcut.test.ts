import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Shortcut } from '../src/http/listen.js';
import type { RequestLine } from '../src/http/request-log.js';
import { createLogger } from '../src/log.js';
import { keptAnswerShortcut } from '../src/razer/kept-answer-shortcut.js';
import { QueryAnswers } from '../src/razer/query-answers.js';

// The listener's shortcut for repeated polls of a final transaction, on a real socket, with an
// app that only says it was reached.

const TARGET = '/transaction/T-1';
const SIGNATURE = 'cHVibGlzaGVyQQ==:sig-of-GET-T-1';
const ANSWER = {
  status: 200,
  text: '{"transactionNumber":"T-1","status":"SUCCESS"}',
  headers: { 'content-type': 'application/json', 'x-razer-signature': 'cHVibGlzaGVyQQ==:answer-sig' },
};

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function start(options: { answer?: typeof ANSWER; failCount?: boolean; shortcut?: Shortcut } = {}) {
  const answers = new QueryAnswers();
  answers.keepFinal(TARGET, SIGNATURE, 'T-1', options.answer ?? ANSWER);
  const counted: Array<[string, number]> = [];
  const recorded: RequestLine[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => logLines.push(JSON.parse(line)) });
  let appCalls = 0;
  const shortcut =
    options.shortcut ??
    keptAnswerShortcut({
      answers,
      audit: {
        repeatedQuery: (n, at) => {
          if (options.failCount) throw new Error('disk full');
          counted.push([n, at]);
        },
      },
      now: () => 1234,
      record: (line) => recorded.push(line),
      logger,
    });
  server = await listen(
    () => {
      appCalls++;
      return new Response('from the app', { status: 418 });
    },
    0,
    '127.0.0.1',
    logger,
    shortcut,
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, counted, recorded, logLines, appCalls: () => appCalls };
}

/** A signed GET of TARGET with the Host header as given (fetch would not send these). */
function rawGet(url: string, host: string): Promise<{ status: number }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.end(
        `GET ${TARGET} HTTP/1.1\r\nHost: ${host}\r\nx-razer-signature: ${SIGNATURE}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]) }));
  });
}

const signed = (extra: Record<string, string> = {}) => ({
  headers: { 'x-razer-signature': SIGNATURE, ...extra },
});

describe('the kept-answer shortcut', () => {
  it('answers the exact target and signature with the kept bytes, counts the repeat and records the request', async () => {
    const s = await start();
    const res = await fetch(`${s.url}${TARGET}`, signed({ 'x-request-id': 'proxy-7' }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(ANSWER.text);
    expect(res.headers.get('x-razer-signature')).toBe(ANSWER.headers['x-razer-signature']);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(ANSWER.text)));
    expect(res.headers.get('x-request-id')).toBe('proxy-7');
    expect(s.appCalls()).toBe(0);
    expect(s.counted).toEqual([['T-1', 1234]]);
    expect(s.recorded).toEqual([
      expect.objectContaining({
        reqId: 'proxy-7',
        method: 'GET',
        path: TARGET,
        endpoint: 'query',
        status: 200,
        transactionNumber: 'T-1',
        answeredAsBefore: true,
      }),
    ]);
    // Our own id when the caller's is not reasonable, as the request log gives.
    const mine = await fetch(`${s.url}${TARGET}`, signed({ 'x-request-id': 'has spaces' }));
    expect(mine.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(s.counted).toHaveLength(2);
  });

  it('leaves every other request to the app: another signature, method, target, or none', async () => {
    const s = await start();
    const others: Array<[string, RequestInit]> = [
      [TARGET, signed({ 'x-razer-signature': `${SIGNATURE}x` })],
      [TARGET, {}],
      [`${TARGET}?a=1`, signed()],
      ['/transaction/T-2', signed()],
      [TARGET, { ...signed(), method: 'HEAD' }],
      [TARGET, { ...signed(), method: 'POST', body: '{}' }],
    ];
    for (const [path, init] of others) expect((await fetch(`${s.url}${path}`, init)).status).toBe(418);
    expect(s.appCalls()).toBe(others.length);
    // A Host node-server refuses (400, before the app) is left to it; a plain one is answered.
    for (const host of ['a@b', 'x:99999', '[::1', 'x:']) expect((await rawGet(s.url, host)).status).toBe(400);
    for (const host of ['example.com', 'gw.example.com:8443', '127.0.0.1:3000', '[::1]:80'])
      expect((await rawGet(s.url, host)).status).toBe(200);
    expect(s.counted).toHaveLength(4);
  });

  it('still answers when the count cannot be taken, and says so in the log', async () => {
    const s = await start({ failCount: true });
    const res = await fetch(`${s.url}${TARGET}`, signed());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(ANSWER.text);
    expect(s.logLines).toEqual([
      expect.objectContaining({ level: 50, msg: 'could not count a repeated query answered from memory' }),
    ]);
  });

  it('leaves the request to the app when the kept answer cannot be written, and when the shortcut throws', async () => {
    // A header value Node refuses to write: nothing is sent, so the app answers instead.
    const bad = { ...ANSWER, headers: { ...ANSWER.headers, 'x-razer-signature': 'line\nbreak' } };
    const s = await start({ answer: bad });
    expect((await fetch(`${s.url}${TARGET}`, signed())).status).toBe(418);
    expect(s.counted).toEqual([]);
    expect(s.logLines.at(-1)).toMatchObject({ level: 50, msg: expect.stringMatching(/the app answers it/) });
    await new Promise((resolve) => server?.close(resolve));

    const t = await start({
      shortcut: () => {
        throw new Error('a bug');
      },
    });
    expect((await fetch(`${t.url}${TARGET}`, signed())).status).toBe(418);
    expect(t.logLines.at(-1)).toMatchObject({ level: 50, msg: expect.stringMatching(/shortcut failed/) });
  });
});
