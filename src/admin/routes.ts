import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import type { Store } from '../db/store.js';
import {
  acknowledge,
  acknowledgementSchema,
  actorSchema,
  type OperatorDeps,
  OperatorError,
  recheck,
  replayWebhook,
  resolutionSchema,
  resolve,
} from '../fulfilment/operator.js';
import type { WebhookProcessor } from '../fulfilment/webhooks.js';
import { loggedPath } from '../http/request-log.js';
import type { Logger } from '../log.js';
import { reportCsv, salesReport, transactionCsvLines } from '../reports/sales.js';
import { bearerMatches } from './auth.js';
import { csvHeaders, csvStream, salesCsvName, transactionsCsvName } from './reports.js';
import {
  catalogueRefreshBody,
  encodeCursor,
  firstIssue,
  reportIssue,
  salesReportQuery,
  storeQuery,
  transactionListQuery,
  transactionsCsvQuery,
  webhookIdParam,
  webhookListQuery,
} from './schemas.js';
import { readStory, transactionView, webhookView } from './story.js';
import type { SupplierReport } from './supplier.js';

export interface AdminDeps {
  token: string;
  store: Store;
  operator: OperatorDeps;
  webhooks: Pick<WebhookProcessor, 'replay'>;
  /** Balance, catalogue age, limiter state and the margin of every mapped SKU. */
  supplier: () => Promise<SupplierReport>;
  /** Fetches the brand list and these variations' brands now, then reads them back. */
  refreshCatalogue: (items: readonly { brand: string; variation: string }[]) => Promise<unknown>;
  /** Where report days begin: minutes east of UTC (REPORT_UTC_OFFSET). */
  reportUtcOffsetMinutes: number;
  logger: Logger;
  onUnauthorized?: () => void;
}

// Room for a catalogue request naming every SKU of a large mapping.
export const MAX_ADMIN_BODY = 128 * 1024;

/** A transaction number as Razer may send it: visible ASCII, no / ? # %. */
const transactionNumberPattern = /^[!-~]{1,64}$/;

const invalid = (message: string) => new OperatorError(400, 'INVALID', message);

function parse<S extends z.ZodType>(
  schema: S,
  input: unknown,
  reason: (error: z.ZodError) => string = firstIssue,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalid(reason(parsed.error));
  return parsed.data;
}

/** A listing's parameters; one without a name is refused too (Hono's query() drops it). */
function listingQuery(c: Context): Record<string, string> {
  if (new URL(c.req.url).searchParams.has('')) throw invalid('a parameter has no name');
  return c.req.query();
}

async function jsonBody(c: Context): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
    throw invalid('Content-Type must be application/json');
  try {
    return await c.req.json();
  } catch {
    throw invalid('the body is not valid JSON');
  }
}

const transactionNumber = (c: Context): string => {
  const n = c.req.param('transactionNumber') ?? '';
  if (!transactionNumberPattern.test(n) || /[/?#%]/.test(n)) throw invalid('not a transaction number');
  return n;
};

/** Who acts: X-Operator when given (checked), else `admin`. */
const actorOf = (c: Context): string => {
  const header = c.req.header('x-operator');
  if (header === undefined) return 'admin';
  return parse(actorSchema, header);
};

/**
 * The operator's JSON API under /admin, behind `Authorization: Bearer <ADMIN_TOKEN>`. Reads go
 * to storage; every action goes through the fulfilment rules, as a step of the engine would.
 */
export function adminRoutes(deps: AdminDeps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    if (!bearerMatches(c.req.header('authorization'), deps.token)) {
      deps.onUnauthorized?.();
      deps.logger.warn({ path: loggedPath(c) }, 'admin request refused: 401');
      c.header('WWW-Authenticate', 'Bearer realm="gateway admin"');
      return c.json(
        { code: 'UNAUTHORIZED', message: 'a valid Authorization: Bearer <ADMIN_TOKEN> is required' },
        401,
      );
    }
    await next();
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_ADMIN_BODY,
      onError: (c) =>
        c.json({ code: 'TOO_LARGE', message: `the body is larger than ${MAX_ADMIN_BODY} bytes` }, 413),
    }),
  );

  app.get('/transactions', async (c) => {
    const query = parse(transactionListQuery, listingQuery(c));
    const page = await deps.store.pageTransactions(storeQuery(query));
    return c.json({ items: page.items.map(transactionView), next: page.next && encodeCursor(page.next) });
  });

  app.get('/transactions/:transactionNumber', async (c) => {
    const n = transactionNumber(c);
    const story = await readStory(deps.store, n);
    if (!story) throw new OperatorError(404, 'NOT_FOUND', `no transaction ${n}`);
    return c.json(story);
  });

  app.post('/transactions/:transactionNumber/recheck', async (c) => {
    const n = transactionNumber(c);
    const result = await recheck(deps.operator, n, actorOf(c));
    return c.json({ ...result, transaction: transactionView(result.transaction) });
  });

  app.post('/transactions/:transactionNumber/resolve', async (c) => {
    const n = transactionNumber(c);
    const actor = actorOf(c);
    const resolution = parse(resolutionSchema, await jsonBody(c));
    const row = await resolve(deps.operator, n, resolution, actor);
    return c.json({ transaction: transactionView(row) });
  });

  app.post('/transactions/:transactionNumber/acknowledge', async (c) => {
    const n = transactionNumber(c);
    const actor = actorOf(c);
    const { reason, seenFlag } = parse(acknowledgementSchema, await jsonBody(c));
    return c.json({
      transaction: transactionView(await acknowledge(deps.operator, n, reason, actor, seenFlag)),
    });
  });

  app.get('/webhooks', async (c) => {
    const query = parse(webhookListQuery, listingQuery(c));
    const page = await deps.store.pageWebhooks({
      processed: query.processed,
      kind: query.kind,
      transactionRef: query.transaction,
      since: query.since,
      until: query.until,
      limit: query.limit,
      beforeId: query.cursor,
    });
    return c.json({
      items: page.items.map(webhookView),
      next: page.next === null ? null : String(page.next),
    });
  });

  app.post('/webhooks/:id/replay', async (c) => {
    const id = parse(webhookIdParam, c.req.param('id'));
    const actor = actorOf(c);
    const outcome = await replayWebhook(deps.webhooks, id, actor);
    deps.logger.info({ webhook: id, actor, ...outcome }, 'operator replayed a webhook');
    return c.json({ id, ...outcome });
  });

  app.get('/supplier', async (c) => c.json(await deps.supplier()));

  app.post('/supplier/catalogue', async (c) => {
    const body = parse(catalogueRefreshBody, await jsonBody(c));
    return c.json(await deps.refreshCatalogue(body.items));
  });

  app.get('/reports/sales', async (c) => {
    const query = parse(salesReportQuery, listingQuery(c), reportIssue);
    return c.json(await salesReport(deps.store, { ...query, utcOffsetMinutes: deps.reportUtcOffsetMinutes }));
  });

  app.get('/reports/sales.csv', async (c) => {
    const query = parse(salesReportQuery, listingQuery(c), reportIssue);
    const report = await salesReport(deps.store, { ...query, utcOffsetMinutes: deps.reportUtcOffsetMinutes });
    return c.body(reportCsv(report), 200, csvHeaders(salesCsvName(query)));
  });

  app.get('/reports/transactions.csv', async (c) => {
    const { from, to } = parse(transactionsCsvQuery, listingQuery(c), reportIssue);
    const lines = transactionCsvLines(deps.store, {
      from,
      to,
      utcOffsetMinutes: deps.reportUtcOffsetMinutes,
    });
    const path = loggedPath(c);
    const body = await csvStream(lines, (err) =>
      deps.logger.error({ err, path }, 'transactions CSV cut short: its stream failed'),
    );
    return c.body(body, 200, csvHeaders(transactionsCsvName({ from, to })));
  });

  app.all('*', (c) =>
    c.json({ code: 'NOT_FOUND', message: `no admin endpoint ${c.req.method} ${c.req.path}` }, 404),
  );

  // The admin boundary's errors, answered in one place.
  app.onError((err, c) => {
    if (err instanceof OperatorError) return c.json({ code: err.code, message: err.message }, err.status);
    deps.logger.error({ err, path: loggedPath(c) }, 'admin request failed: 500');
    return c.json(
      { code: 'FAILED', message: 'internal error; nothing was changed unless the story shows it' },
      500,
    );
  });
  return app;
}
