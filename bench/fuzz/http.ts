import type { IncomingMessage } from 'node:http';
import type { GatewayEnv } from '../../src/http/env.js';

/** A request as it would arrive on the wire: the raw target, raw body bytes, the peer's address. */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent (`/path?query`), what Razer signs. */
  target: string;
  headers: readonly (readonly [string, string])[];
  body: Uint8Array | null;
  /** Sent with `Transfer-Encoding: chunked` instead of a Content-Length. */
  chunked: boolean;
  remoteAddress: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface FetchApp {
  fetch(request: Request, env: GatewayEnv['Bindings']): Response | Promise<Response>;
}

/** What the Node server in front of the app would refuse on its own, before the app sees it. */
export function refusedBeforeApp(r: RawRequest): string | null {
  if (!r.target.startsWith('/')) return 'not an origin-form target';
  const q = r.target.indexOf('?');
  if (r.target.slice(0, q < 0 ? undefined : q).includes('\\')) return 'backslash in the path';
  if (!URL.canParse(`http://gateway.fuzz${r.target}`)) return 'not a URL';
  for (const [name, value] of r.headers) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return 'header name';
    // The body's framing is the sender's to state once: `deliver` writes it.
    if (/^(content-length|transfer-encoding)$/i.test(name)) return 'framing header';
    if (/[\0\r\n]/.test(value) || /[^\x20-\xff\t]/.test(value)) return 'header value';
  }
  return null;
}

/** Headers of which Node keeps the first when repeated (`IncomingMessage.headers`). */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** `IncomingMessage.headers` as Node builds it from the same header lines. */
function nodeHeaders(lines: readonly (readonly [string, string])[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [raw, rawValue] of lines) {
    const name = raw.toLowerCase();
    const value = rawValue.trim();
    const seen = out[name];
    if (name === 'set-cookie') out[name] = [...(Array.isArray(seen) ? seen : []), value];
    else if (seen === undefined) out[name] = value;
    else if (!FIRST_ONLY.has(name)) out[name] = `${String(seen)}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}

/**
 * Hands a raw request to the app in-process as @hono/node-server would: the URL built from the
 * Host and the raw target, the raw target and socket address in `env.incoming` (the gateway
 * reads both from there), the body streamed with or without a Content-Length.
 */
export async function deliver(app: FetchApp, r: RawRequest): Promise<RawResponse> {
  const lines: (readonly [string, string])[] = [...r.headers];
  if (!lines.some(([name]) => name.toLowerCase() === 'host')) lines.unshift(['host', 'gateway.fuzz']);
  const carriesBody = r.method !== 'GET' && r.method !== 'HEAD';
  const body = carriesBody ? (r.body ?? new Uint8Array(0)) : null;
  if (body && body.length > 0)
    lines.push(r.chunked ? ['transfer-encoding', 'chunked'] : ['content-length', String(body.length)]);
  // As @hono/node-server builds them from Node's raw header lines: repeats joined by ", ".
  const headers = new Headers();
  for (const [name, value] of lines) headers.append(name, value);
  const request = new Request(`http://gateway.fuzz${r.target}`, {
    method: r.method,
    headers,
    ...(body && body.length > 0 ? { body } : {}),
  });
  // What the gateway reads of Node's request: the raw target, the parsed headers, the peer.
  const incoming = {
    url: r.target,
    headers: nodeHeaders(lines),
    socket: { remoteAddress: r.remoteAddress },
  } as unknown as IncomingMessage;
  const res = await app.fetch(request, { incoming });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
