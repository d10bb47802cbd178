import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlertBody, type AlertEvent, Alerter, type AlerterOptions } from '../src/admin/alerts.js';
import { watchCatalogue } from '../src/admin/watches.js';
import { createLogger } from '../src/log.js';
import { waitFor } from './helpers/wait.js';

// What a webhook URL carries: anyone holding it can post to the channel.
const SECRET_PATH = '/services/T0001/B0002/s3cr3t-XyZ-token';

interface Received {
  body: AlertBody;
  contentType: string | undefined;
}

type Answer = number | 'hang';

/** A chat webhook receiver on a free port; answers each request with the next of `answers`. */
async function receiver(answers: Answer[] = [], otherwise: Answer = 200) {
  const received: Received[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      received.push({ body: JSON.parse(text) as AlertBody, contentType: req.headers['content-type'] });
      const answer = answers.shift() ?? otherwise;
      if (answer === 'hang') return;
      res.writeHead(req.url === SECRET_PATH ? answer : 404, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  closers.push(close);
  return { url: `http://127.0.0.1:${port}${SECRET_PATH}`, received };
}

const closers: (() => Promise<void>)[] = [];
const alerters: Alerter[] = [];
afterEach(async () => {
  for (const a of alerters.splice(0)) a.close();
  await Promise.all(closers.splice(0).map((close) => close()));
});

function logCapture() {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (s: string) => void lines.push(s) });
  const parsed = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string });
  return { logger, lines, parsed };
}

const fast = { minDelayMs: 5, maxDelayMs: 20, timeoutMs: 2000 };

function alerter(options: Partial<AlerterOptions> = {}) {
  const a = new Alerter({ logger: createLogger('silent'), delivery: fast, ...options });
  alerters.push(a);
  return a;
}

const flagged = (n: string, reason = 'supplier said rc 50 twice'): AlertEvent => ({
  kind: 'flagged',
  key: n,
  message: reason,
  transactionNumber: n,
});

describe('alerter', () => {
  it('sends one event once, with the fields Slack and Discord read, however often it is raised', async () => {
    const hook = await receiver();
    const raised: AlertEvent[] = [];
    const a = alerter({ url: hook.url, onRaise: (e) => raised.push(e) });
    expect(a.raise(flagged('TRX-1'))).toBe(true);
    expect(a.raise(flagged('TRX-1'))).toBe(false);
    expect(a.raise(flagged('TRX-1', 'another reason, same event'))).toBe(false);
    await a.idle();
    expect(hook.received).toHaveLength(1);
    expect(raised).toHaveLength(1);
    const sent = hook.received[0];
    expect(sent?.contentType).toBe('application/json');
    expect(sent?.body).toEqual({
      text: '[gateway] flagged: transaction TRX-1 — supplier said rc 50 twice',
      content: '[gateway] flagged: transaction TRX-1 — supplier said rc 50 twice',
      kind: 'flagged',
      key: 'TRX-1',
      transactionNumber: 'TRX-1',
      allowed_mentions: { parse: [] },
    });
  });

  it('tells events apart by kind and key', async () => {
    const hook = await receiver();
    const a = alerter({ url: hook.url });
    expect(a.raise(flagged('TRX-1'))).toBe(true);
    expect(a.raise(flagged('TRX-2'))).toBe(true);
    expect(a.raise({ kind: 'supplier-auth', key: 'TRX-1', message: 'rc 41 on balance' })).toBe(true);
    await a.idle();
    expect(hook.received.map((r) => [r.body.kind, r.body.key])).toEqual(
      expect.arrayContaining([
        ['flagged', 'TRX-1'],
        ['flagged', 'TRX-2'],
        ['supplier-auth', 'TRX-1'],
      ]),
    );
    expect(hook.received).toHaveLength(3);
    expect(hook.received.find((r) => r.body.kind === 'supplier-auth')?.body).toMatchObject({
      text: '[gateway] supplier-auth: rc 41 on balance',
      transactionNumber: null,
    });
  });

  it('sends an event again after it was cleared', async () => {
    const hook = await receiver();
    const raised: string[] = [];
    const a = alerter({ url: hook.url, onRaise: (e) => raised.push(e.kind) });
    const low = { kind: 'low-balance', key: 'balance', message: 'balance 10 IDR' } as const;
    expect(a.active('low-balance')).toBe(false);
    expect(a.raise(low)).toBe(true);
    expect(a.raise(low)).toBe(false);
    expect(a.active('low-balance')).toBe(true);
    expect(a.active('stale-balance')).toBe(false);
    expect(a.clear('low-balance', 'balance')).toBe(true);
    expect(a.active('low-balance')).toBe(false);
    expect(a.clear('low-balance', 'balance')).toBe(false);
    expect(a.raise(low)).toBe(true);
    await a.idle();
    expect(hook.received).toHaveLength(2);
    expect(raised).toEqual(['low-balance', 'low-balance']);
  });

  it('retries after a 500, a 429 and a 408, then stops at the first success', async () => {
    const hook = await receiver([500, 429, 408]);
    const { logger, parsed } = logCapture();
    const a = alerter({ url: hook.url, logger });
    a.raise(flagged('TRX-9'));
    await a.idle();
    expect(hook.received).toHaveLength(4);
    expect(new Set(hook.received.map((r) => r.body.key))).toEqual(new Set(['TRX-9']));
    expect(parsed().some((l) => l.msg === 'alert not delivered')).toBe(false);
    expect(parsed().some((l) => l.msg === 'alert delivered')).toBe(true);
  });

  it('does not retry a 400, and gives up after its tries on a 500, logging an error without the URL', async () => {
    const refused = await receiver([], 400);
    const broken = await receiver([], 500);
    const { logger, lines, parsed } = logCapture();
    const a = alerter({ url: refused.url, logger, delivery: { ...fast, tries: 4 } });
    a.raise(flagged('TRX-3'));
    await a.idle();
    expect(refused.received).toHaveLength(1);
    const b = alerter({ url: broken.url, logger, delivery: { ...fast, tries: 3 } });
    b.raise(flagged('TRX-4'));
    await b.idle();
    expect(broken.received).toHaveLength(3);

    const failures = parsed().filter((l) => l.msg === 'alert not delivered');
    expect(failures.map((l) => [l.level, l.reason])).toEqual([
      [50, 'HTTP 400'],
      [50, 'HTTP 500'],
    ]);
    const output = lines.join('');
    expect(output).toContain('TRX-4');
    expect(output).not.toContain('s3cr3t');
    expect(output).not.toContain('127.0.0.1');
  });

  it('gives each try a timeout, and never logs the URL from a connection error', async () => {
    const slow = await receiver([], 'hang');
    const { logger, lines, parsed } = logCapture();
    const a = alerter({ url: slow.url, logger, delivery: { ...fast, tries: 2, timeoutMs: 100 } });
    a.raise(flagged('TRX-5'));
    await a.idle();
    expect(slow.received).toHaveLength(2);
    expect(parsed().find((l) => l.msg === 'alert not delivered')?.reason).toBe('timed out');

    // Nothing listens there any more once the receiver is closed.
    const gone = await receiver();
    await closers.pop()?.();
    const b = alerter({ url: gone.url, logger, delivery: { ...fast, tries: 2 } });
    b.raise(flagged('TRX-6'));
    await b.idle();
    expect(parsed().filter((l) => l.msg === 'alert not delivered')).toHaveLength(2);
    expect(parsed().at(-1)?.reason).toMatch(/ECONNREFUSED/);

    // fetch's own messages quote the URL.
    const c = alerter({
      url: `http://hooks.example${SECRET_PATH}`,
      logger,
      fetch: async (input) => {
        throw new TypeError(`Failed to parse URL from ${String(input)}`);
      },
    });
    c.raise(flagged('TRX-7'));
    await c.idle();
    expect(parsed().filter((l) => l.msg === 'alert not delivered')).toHaveLength(3);
    expect(lines.join('')).not.toContain('s3cr3t');
  });

  it('stops retrying on close', async () => {
    const hook = await receiver([], 503);
    const { logger, parsed } = logCapture();
    // A minute between tries: only close can end this delivery within the test's time.
    const a = alerter({ url: hook.url, logger, delivery: { ...fast, tries: 4, minDelayMs: 60_000 } });
    a.raise(flagged('TRX-8'));
    await waitFor(
      () => parsed().some((l) => l.msg === 'alert delivery failed; retrying'),
      5000,
      'a first try',
    );
    const started = Date.now();
    a.close();
    await a.idle();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hook.received).toHaveLength(1);
    expect(parsed().find((l) => l.msg === 'alert not delivered')?.reason).toBe('the alerter was closed');
    // Raised after close: remembered and logged, not sent.
    expect(a.raise(flagged('TRX-10'))).toBe(true);
    await a.idle();
    expect(hook.received).toHaveLength(1);
  });

  it('only logs when no URL is set', async () => {
    const calls: unknown[] = [];
    const { logger, parsed } = logCapture();
    const a = alerter({
      logger,
      url: null,
      fetch: async (...args) => {
        calls.push(args);
        return new Response(null, { status: 200 });
      },
    });
    expect(a.raise(flagged('TRX-11'))).toBe(true);
    await a.idle();
    expect(calls).toHaveLength(0);
    const line = parsed().find((l) => l.level === 40);
    expect(line?.msg).toBe('[gateway] flagged: transaction TRX-11 — supplier said rc 50 twice');
  });

  it('cuts the line to what Discord accepts', async () => {
    const hook = await receiver();
    const a = alerter({ url: hook.url });
    a.raise(flagged('TRX-12', 'x'.repeat(5000)));
    await a.idle();
    const body = hook.received[0]?.body;
    expect(body?.content.length).toBe(2000);
    expect(body?.content.endsWith('…')).toBe(true);
    expect(body?.text).toBe(body?.content);
  });

  it('remembers at most 10,000 events, forgetting the oldest first', () => {
    const raised: string[] = [];
    const a = alerter({ onRaise: (e) => raised.push(e.key) });
    for (let i = 0; i <= 10_000; i++) a.raise(flagged(`TRX-${i}`));
    expect(raised).toHaveLength(10_001);
    // TRX-0 was the oldest: forgotten, so new again; the rest are still known.
    expect(a.raise(flagged('TRX-10000'))).toBe(false);
    expect(a.raise(flagged('TRX-2'))).toBe(false);
    expect(a.raise(flagged('TRX-0'))).toBe(true);
    // Remembering TRX-0 again pushed out the next oldest, TRX-1, and nothing else.
    expect(a.raise(flagged('TRX-1'))).toBe(true);
    expect(a.raise(flagged('TRX-5'))).toBe(false);
    expect(raised).toHaveLength(10_003);

    const small = alerter({ maxKeys: 2 });
    small.raise(flagged('A'));
    small.raise(flagged('B'));
    small.raise(flagged('C'));
    expect(small.raise(flagged('C'))).toBe(false);
    expect(small.raise(flagged('A'))).toBe(true);

    // A condition is never forgotten for room: it holds (and is not sent again) until cleared.
    const low = { kind: 'low-balance', key: 'balance', message: 'balance 10 IDR' } as const;
    expect(small.raise(low)).toBe(true);
    for (const n of ['D', 'E', 'F']) small.raise(flagged(n));
    expect(small.active('low-balance')).toBe(true);
    expect(small.raise(low)).toBe(false);
    expect(small.clear('low-balance', 'balance')).toBe(true);
    expect(small.active('low-balance')).toBe(false);
  });
});

describe('catalogue watch', () => {
  it('shows stale-catalogue while it holds the turn, lets it go to the holder, and tells a new spell once', async () => {
    const hook = await receiver();
    const a = alerter({ url: hook.url });
    let mine = true;
    let ageMs = 2 * 3_600_000;
    const w = watchCatalogue({
      age: async () => ({ brandsMs: ageMs, oldestVariationsMs: null }),
      alerter: a,
      turn: async () => mine,
      intervalMs: 60_000,
      onError: (err) => {
        throw err;
      },
    });
    const told = async () => {
      await a.idle();
      return hook.received.filter((r) => r.body.kind === 'stale-catalogue').length;
    };
    try {
      await w.check();
      expect(a.active('stale-catalogue')).toBe(true);
      mine = false;
      await w.check();
      expect(a.active('stale-catalogue')).toBe(false);
      // Back to this instance, still stale: shown again, not told again.
      mine = true;
      await w.check();
      expect(a.active('stale-catalogue')).toBe(true);
      expect(await told()).toBe(1);
      // Fresh again, seen while another instance watches: forgotten here, so a new spell is told.
      mine = false;
      ageMs = 60_000;
      await w.check();
      ageMs = 2 * 3_600_000;
      mine = true;
      await w.check();
      expect(await told()).toBe(2);
    } finally {
      w.stop();
    }
  });
});
