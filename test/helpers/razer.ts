import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../../src/app.js';
import type { Mapping } from '../../src/config/mapping.js';
import type { Store } from '../../src/db/store.js';
import type { TransactionRow } from '../../src/db/types.js';
import type { Fulfilment } from '../../src/fulfilment/ports.js';
import type { RefusalCode } from '../../src/fulfilment/refusal.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { RazerContact } from '../../src/razer/contact.js';
import type { RazerDeps } from '../../src/razer/routes.js';
import { signatureHeader } from '../../src/razer/signature.js';
import { requestSignedContent, type SignedContentMode } from '../../src/readings/razer.js';
import { defaultCatalogue } from '../../src/sim/catalogue.js';
import { jsonObject } from '../../src/sim/razer-client.js';
import { T0 } from './fixtures.js';
import { exampleMapping } from './mapping.js';
import { countRows, type TempStore, tempStore } from './storage.js';

export const API_ID = 'publisherA';
export const API_KEY = 'test-api-key-0001';

export type FakeOutcome =
  | { kind: 'success'; voucher?: string }
  | { kind: 'fail'; code: RefusalCode; reason: string }
  | { kind: 'pending' }
  | { kind: 'sent' };

/**
 * Stands in for the fulfilment engine: moves a QUEUED transaction along as told, through
 * the same repository function the engine uses.
 */
export class FakeFulfilment implements Fulfilment {
  outcome: FakeOutcome = { kind: 'success' };
  calls: string[] = [];
  constructor(private readonly deps: { store: Store; now: () => number }) {}

  async fulfil(n: string): Promise<void> {
    this.calls.push(n);
    const move = async (from: TransactionRow['state'], to: TransactionRow['state'], patch = {}) => {
      const r = await this.deps.store.moveTransaction({
        transactionNumber: n,
        from,
        to,
        cause: 'supplier',
        at: this.deps.now(),
        patch,
      });
      if (!r.ok) throw new Error(`fake fulfilment could not move ${from} -> ${to}`);
    };
    const o = this.outcome;
    if (o.kind === 'pending') return;
    await move('QUEUED', 'ORDERING', { orderAttempts: 1 });
    if (o.kind === 'fail')
      return move('ORDERING', 'FAILED', { failureCode: o.code, failureReason: o.reason });
    await move('ORDERING', 'PROCESSING', { trxCode: `VCG-${n}` });
    if (o.kind === 'success') await move('PROCESSING', 'SUCCESS', { voucherCode: o.voucher ?? `SN-${n}` });
  }
}

export interface RazerHarness {
  url: string;
  deps: RazerDeps;
  fulfilment: FakeFulfilment;
  store: TempStore;
  clock: { now: number };
  unauthorized: string[];
  row(n: string): Promise<TransactionRow | undefined>;
  count(table: string): Promise<number>;
  close(): Promise<void>;
}

export async function startRazer(
  options: {
    mapping?: Mapping;
    keys?: string[];
    mode?: SignedContentMode;
    seedCatalogue?: boolean;
    logger?: Logger;
    contact?: RazerContact;
  } = {},
): Promise<RazerHarness> {
  const store = await tempStore();
  const clock = { now: T0 };
  if (options.seedCatalogue !== false) await seedCatalogue(store, clock.now);
  const mapping = options.mapping ?? exampleMapping();
  const unauthorized: string[] = [];
  let tokens = 0;
  const deps: RazerDeps = {
    store,
    mapping: () => mapping,
    catalogue: {
      brand: (k) => store.getBrand(k),
      variation: (b, v) => store.getVariation(b, v),
    },
    fulfilment: { fulfil: (n) => fulfilment.fulfil(n) },
    now: () => clock.now,
    newToken: () => `tok-${++tokens}-${'x'.repeat(24)}`,
    topupWaitMs: 1000,
    resolveDeadlineMs: 24 * 3_600_000,
    credentials: [{ apiId: API_ID, keys: options.keys ?? [API_KEY] }],
    signedContent: () => options.mode ?? 'body',
    logger: options.logger ?? createLogger('silent'),
    contact: options.contact,
    onUnauthorized: (reason) => unauthorized.push(reason),
  };
  const fulfilment = new FakeFulfilment(deps);
  const server = serve({ fetch: createApp({ razer: deps }).fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deps,
    fulfilment,
    store,
    clock,
    unauthorized,
    row: (n) => store.getTransaction(n),
    count: (table) => countRows(store, table),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

export async function seedCatalogue(store: Store, at: number): Promise<void> {
  const catalogue = defaultCatalogue();
  await store.replaceBrands(
    catalogue.map((b) => ({
      brandKey: b.key,
      name: b.name,
      isVoucher: b.isVoucher,
      isActive: b.isActive,
      forms: b.forms,
    })),
    at,
  );
  for (const b of catalogue) {
    await store.replaceVariations(
      b.key,
      b.variations.map((v) => ({ variationKey: v.key, name: v.name, price: v.price, isActive: v.isActive })),
      at,
    );
  }
}

export interface SendOptions {
  apiId?: string;
  key?: string;
  mode?: SignedContentMode;
  header?: string | null;
  contentType?: string;
  /** Signs this body but sends `body` (tampering). */
  signBody?: string;
  /** Signs this path but requests `path` (tampering). */
  signPath?: string;
}

export interface RazerReply {
  status: number;
  text: string;
  json: Record<string, unknown>;
  signature: string | null;
}

/** Sends a request signed like Razer Gold does (or not, as the options say). */
export async function send(
  h: { url: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  o: SendOptions = {},
): Promise<RazerReply> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const content = requestSignedContent(
    o.mode ?? 'body',
    method,
    o.signPath ?? path,
    Buffer.from(o.signBody ?? text, 'utf8'),
  );
  const header =
    o.header === undefined ? signatureHeader(o.apiId ?? API_ID, o.key ?? API_KEY, content) : o.header;
  const headers: Record<string, string> = {};
  if (header !== null) headers['x-razer-signature'] = header;
  if (method === 'POST') headers['content-type'] = o.contentType ?? 'application/json';
  const res = await fetch(h.url + path, { method, headers, body: method === 'POST' ? text : undefined });
  const reply = await res.text();
  return {
    status: res.status,
    text: reply,
    json: jsonObject(reply),
    signature: res.headers.get('x-razer-signature'),
  };
}

export const initBody = (n: string, over: Record<string, unknown> = {}) => ({
  transactionNumber: n,
  sku: 'DIAMOND50',
  razerId: 'RZR_0060d83c4d40bb9f10fb00bc0000',
  accountId: '123456-12',
  userIpAddress: '23.199.128.1',
  userCountryCode: 'MY',
  customParam: { serverId: 'MY01' },
  ...over,
});

/** Init then top-up; returns both replies. */
export async function purchase(h: RazerHarness, n: string, over: Record<string, unknown> = {}) {
  const init = await send(h, 'POST', '/transaction/init', initBody(n, over));
  const topup = await send(h, 'POST', '/transaction/topup', {
    transactionNumber: n,
    transactionToken: init.json.transactionToken,
  });
  return { init, topup };
}
