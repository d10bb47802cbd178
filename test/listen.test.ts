import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../src/http/listen.js';
import { createLogger } from '../src/log.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function start(fetch: (request: Request) => Response | Promise<Response>) {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(line) });
  server = await listen(fetch, 0, '127.0.0.1', logger);
  return { port: (server.address() as AddressInfo).port, lines };
}

/** Sends `head` as is (no client would send these) and reads the whole answer. */
function raw(port: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

describe('the listener', () => {
  it('answers a request refused before routing with 400 and its reason, and logs it (it was a bare 400)', async () => {
    const app = new Hono();
    app.get('*', (c) => c.text('routed'));
    const { port, lines } = await start(app.fetch);
    const refused = await raw(port, 'GET /transaction/a\\b HTTP/1.1\r\nHost: 127.0.0.1');
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({
      code: 'BAD_REQUEST',
      message: 'the request could not be read: Backslash in request path',
    });
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({
        level: 40,
        reason: 'Backslash in request path',
        msg: 'request refused before routing',
      }),
    );
    // A backslash in the query is no path: routed as before.
    expect(await raw(port, 'GET /transaction/ab?x=\\ HTTP/1.1\r\nHost: 127.0.0.1')).toMatchObject({
      status: 200,
      body: 'routed',
    });
  });

  it('routes an HTTP/1.0 request without a Host header (a load balancer probe) under the listening host', async () => {
    const app = new Hono();
    app.get('/health', (c) => c.text(new URL(c.req.url).host));
    const { port } = await start(app.fetch);
    expect(await raw(port, 'GET /health HTTP/1.0')).toMatchObject({ status: 200, body: '127.0.0.1' });
  });

  it('answers 504 to a timeout thrown outside the app, and never fails itself (an object without a prototype)', async () => {
    const timeout = await start(() => Promise.reject(new DOMException('t', 'TimeoutError')));
    expect((await raw(timeout.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1')).status).toBe(504);
    await new Promise((resolve) => server?.close(resolve));
    const odd = await start(() => {
      throw Object.create(null);
    });
    expect((await raw(odd.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1')).status).toBe(500);
  });

  it('takes only a RequestError of node-server for a refusal before routing: an app error of that name is a 500', async () => {
    const named = Object.assign(new Error('upstream said: SECRET'), { name: 'RequestError' });
    const { port, lines } = await start(() => Promise.reject(named));
    const answer = await raw(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1');
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('SECRET');
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ level: 50 }));
  });

  it('answers 500 and logs an error when the fetch callback itself throws', async () => {
    const { port, lines } = await start(() => {
      throw new Error('boom outside the app');
    });
    expect((await raw(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1')).status).toBe(500);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ level: 50, msg: 'request failed outside the app' }),
    );
  });
});
