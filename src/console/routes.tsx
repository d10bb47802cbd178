import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { csvHeaders, csvStream, salesCsvName, transactionsCsvName } from '../admin/reports.js';
import type { AdminDeps } from '../admin/routes.js';
import {
  encodeCursor,
  firstIssue,
  reportIssue,
  storeQuery,
  transactionListQuery,
  webhookIdParam,
} from '../admin/schemas.js';
import { readStory, transactionView } from '../admin/story.js';
import type { TransactionRow } from '../db/types.js';
import {
  acknowledge,
  acknowledgementSchema,
  actorSchema,
  OperatorError,
  recheck,
  replayWebhook,
  resolutionRefusal,
  resolutionSchema,
  resolve,
} from '../fulfilment/operator.js';
import { isTerminal } from '../fulfilment/states.js';
import { loggedPath } from '../http/request-log.js';
import { answerFromState } from '../razer/answers.js';
import { transactionNumberSchema } from '../razer/schemas.js';
import {
  type ReportQuery,
  reportCsv,
  reportQuerySchema,
  salesReport,
  transactionCsvLines,
} from '../reports/sales.js';
import { sameSecret } from '../secrets.js';
import { type GoLiveDeps, gatherGoLive } from './go-live.js';
import type { Chrome, Section } from './layout.js';
import { chartWindow, failedToday, hourlyBars } from './overview.js';
import { ConfirmPage, ResultPage } from './pages/confirm.js';
import { GoLivePage } from './pages/go-live.js';
import { MessagePage } from './pages/message.js';
import { OverviewPage } from './pages/overview.js';
import { SalesPage } from './pages/sales.js';
import { SignInPage } from './pages/sign-in.js';
import { SupplierPage } from './pages/supplier.js';
import { TransactionPage } from './pages/transaction.js';
import { FILTERS, type Filters, TransactionsPage } from './pages/transactions.js';
import { salesForm } from './sales.js';
import {
  csrfMatches,
  csrfToken,
  issueSession,
  readSession,
  SESSION_TTL_MS,
  type Session,
  SignedOut,
  sessionKey,
} from './session.js';
import { CSS_HASH } from './style.js';
import { timeline } from './timeline.js';

export interface ConsoleDeps extends AdminDeps {
  now: () => number;
  /** What the Go live page shows: the last conformance report, the readings, Razer contact. */
  goLive: GoLiveDeps;
}

type Env = { Variables: { session: Session } };
type C = Context<Env>;

const COOKIE = 'gateway_console';
const MAX_FORM_BYTES = 16 * 1024;

/** No script at all; the one inline stylesheet by its hash; forms post only here. */
const CSP = [
  "default-src 'none'",
  `style-src ${CSS_HASH}`,
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const page = (
  c: C,
  node: HtmlEscapedString | Promise<HtmlEscapedString>,
  status: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 500 = 200,
) => c.html(html`<!DOCTYPE html>${node}`, status);

/** Behind TLS, directly or through a proxy that says so: the cookie is then Secure. */
const overTls = (c: C): boolean =>
  new URL(c.req.url).protocol === 'https:' ||
  c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';

/**
 * A form posted from another site is refused before anything else: the browser says where it
 * came from (Sec-Fetch-Site, else Origin). The session's form token is checked as well.
 */
function crossSite(c: C): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin';
  const origin = c.req.header('origin');
  if (origin === undefined) return false;
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
  try {
    return origin === 'null' || new URL(origin).host !== host;
  } catch {
    return true;
  }
}

async function form(c: C): Promise<Record<string, string>> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
    throw new OperatorError(
      400,
      'INVALID',
      'the console takes HTML forms (application/x-www-form-urlencoded)',
    );
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value;
  return fields;
}

/** A field, trimmed; absent when empty. */
const field = (fields: Record<string, string>, name: string): string | undefined => {
  const value = fields[name]?.trim();
  return value ? value : undefined;
};

const numberParam = (c: C): string => {
  const parsed = transactionNumberSchema.safeParse(c.req.param('transactionNumber'));
  if (!parsed.success) throw new OperatorError(400, 'INVALID', 'not a transaction number');
  return parsed.data;
};

const txHref = (n: string) => `/console/transactions/${encodeURIComponent(n)}`;

/** What Razer's next query about the transaction is answered. */
const razerWillHear = (row: TransactionRow): string => {
  const answer = answerFromState(row);
  const body = typeof answer.body === 'string' ? {} : answer.body;
  return `Razer's next query is answered ${answer.status} ${String(body.status ?? body.code ?? '')}`.trim();
};

const NEVER_SENT = new Set(['INITIATED', 'CANCELLED', 'EXPIRED']);

/** The operator's console under /console: pages rendered here, behind a signed session cookie. */
export function consoleRoutes(deps: ConsoleDeps): Hono<Env> {
  const app = new Hono<Env>();
  const key = sessionKey(deps.token);
  const signedOut = new SignedOut();
  const chrome = (c: C, section: Section): Chrome => {
    const session = c.get('session');
    return { actor: session.actor, csrf: csrfToken(key, session), section };
  };

  app.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cache-Control', 'no-store');
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) => page(c, SignInPage({ error: `the form is larger than ${MAX_FORM_BYTES} bytes` }), 413),
    }),
  );
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && crossSite(c)) {
      deps.logger.warn({ path: loggedPath(c) }, 'console form from another site refused: 403');
      return page(c, SignInPage({ error: 'refused: this form was not sent from the console' }), 403);
    }
    await next();
  });

  app.get('/sign-in', (c) => {
    const session = readSession(key, getCookie(c, COOKIE), deps.now());
    // A signed-out cookie a browser kept would otherwise bounce between here and /console.
    if (session && !signedOut.has(session, deps.now())) return c.redirect('/console', 303);
    return page(c, SignInPage({ signedOut: c.req.query('out') === '1' }));
  });

  app.post('/sign-in', async (c) => {
    const fields = await form(c);
    const given = fields.token ?? '';
    if (!(sameSecret(given, deps.token) && given.length > 0)) {
      deps.onUnauthorized?.();
      deps.logger.warn({ path: loggedPath(c) }, 'console sign-in refused: 401');
      return page(c, SignInPage({ error: 'That is not the admin token.' }), 401);
    }
    const actor = actorSchema.safeParse(field(fields, 'actor') ?? 'console');
    if (!actor.success) return page(c, SignInPage({ error: `Your name ${firstIssue(actor.error)}` }), 400);
    setCookie(c, COOKIE, issueSession(key, actor.data, deps.now()), {
      path: '/console',
      httpOnly: true,
      sameSite: 'Strict',
      secure: overTls(c),
      maxAge: SESSION_TTL_MS / 1000,
    });
    deps.logger.info({ actor: actor.data }, 'console sign-in');
    return c.redirect('/console', 303);
  });

  // Everything below needs a session; a post also needs the session's form token.
  app.use('*', async (c, next) => {
    const session = readSession(key, getCookie(c, COOKIE), deps.now());
    if (!session || signedOut.has(session, deps.now())) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') return c.redirect('/console/sign-in', 303);
      return page(c, SignInPage({ error: 'Your session has ended: sign in again.' }), 401);
    }
    c.set('session', session);
    if (
      c.req.method !== 'GET' &&
      c.req.method !== 'HEAD' &&
      !csrfMatches(key, session, (await form(c)).csrf)
    ) {
      deps.logger.warn(
        { path: loggedPath(c), actor: session.actor },
        'console form without its token refused: 403',
      );
      return page(
        c,
        MessagePage({
          chrome: chrome(c, 'none'),
          title: 'Refused',
          kind: 'error',
          message: 'This form is stale or was not sent from the console; reload the page and try again.',
        }),
        403,
      );
    }
    await next();
  });

  app.post('/sign-out', (c) => {
    signedOut.add(c.get('session'));
    deleteCookie(c, COOKIE, { path: '/console', secure: overTls(c) });
    return c.redirect('/console/sign-in?out=1', 303);
  });

  app.get('/', async (c) => {
    const now = deps.now();
    const { since, until } = chartWindow(now);
    const [counts, hourly] = await Promise.all([
      deps.store.countTransactions(),
      deps.store.purchasesByHour(since, until),
    ]);
    return page(
      c,
      OverviewPage({
        chrome: chrome(c, 'overview'),
        counts,
        failedToday: failedToday(hourly, now),
        bars: hourlyBars(hourly, now),
      }),
    );
  });

  app.get('/transactions', async (c) => {
    const typed: Filters = {};
    const query: Record<string, string> = {};
    for (const [name, value] of Object.entries(c.req.query())) {
      if (value.trim() === '') continue; // an empty box filters nothing
      query[name] = value;
      if ((FILTERS as readonly string[]).includes(name)) typed[name as keyof Filters] = value;
    }
    const parsed = transactionListQuery.safeParse(query);
    const now = deps.now();
    if (!parsed.success)
      return page(
        c,
        TransactionsPage({
          chrome: chrome(c, 'transactions'),
          filters: typed,
          items: [],
          next: null,
          error: firstIssue(parsed.error),
          now,
        }),
        400,
      );
    const found = await deps.store.pageTransactions(storeQuery(parsed.data));
    return page(
      c,
      TransactionsPage({
        chrome: chrome(c, 'transactions'),
        filters: typed,
        items: found.items.map(transactionView),
        next: found.next && encodeCursor(found.next),
        now,
      }),
    );
  });

  app.get('/transactions/:transactionNumber', async (c) => {
    const n = numberParam(c);
    const story = await readStory(deps.store, n);
    if (!story) throw new OperatorError(404, 'NOT_FOUND', `no transaction ${n}`);
    const t = story.transaction;
    const failed = { outcome: 'failed' as const, reason: 'reason' };
    const full = { ...t, token: '' };
    return page(
      c,
      TransactionPage({
        chrome: chrome(c, 'transactions'),
        story,
        entries: timeline(story),
        can: {
          recheck: !NEVER_SENT.has(t.state),
          resolve: resolutionRefusal(full, failed) === null,
          acknowledge: t.attention && isTerminal(t.state),
        },
        now: deps.now(),
      }),
    );
  });

  app.post('/transactions/:transactionNumber/recheck', async (c) => {
    const n = numberParam(c);
    const fields = await form(c);
    if (fields.confirm !== 'yes') {
      const row = await deps.store.getTransaction(n);
      if (!row) throw new OperatorError(404, 'NOT_FOUND', `no transaction ${n}`);
      return page(
        c,
        ConfirmPage({
          chrome: chrome(c, 'transactions'),
          title: row.state === 'QUEUED' ? `Order ${n} now?` : `Recheck ${n}?`,
          lines:
            row.state === 'QUEUED'
              ? [
                  `${n} is QUEUED: it was never sent. The gateway sends its order to VCGamers now (this buys it), within the rate limit.`,
                ]
              : [
                  'The gateway asks VCGamers about this transaction now, within the rate limit.',
                  'A final state is only checked: a contradiction is flagged, never applied.',
                ],
          action: `${txHref(n)}/recheck`,
          fields: {},
          cancelHref: txHref(n),
        }),
      );
    }
    const actor = c.get('session').actor;
    const result = await recheck(deps.operator, n, actor);
    return page(
      c,
      ResultPage({
        chrome: chrome(c, 'transactions'),
        title: result.before === 'QUEUED' ? `Ordered ${n}` : `Rechecked ${n}`,
        ok: true,
        lines: [
          `Before: ${result.before}; now: ${result.transaction.state}.`,
          result.completed
            ? 'The step completed.'
            : 'The step did not complete (the supplier may be busy); it is retried on schedule.',
          razerWillHear(result.transaction),
        ],
        backHref: txHref(n),
        backLabel: `Back to ${n}`,
      }),
    );
  });

  app.post('/transactions/:transactionNumber/resolve', async (c) => {
    const n = numberParam(c);
    const fields = await form(c);
    const input = {
      outcome: field(fields, 'outcome'),
      reason: field(fields, 'reason'),
      voucherCode: field(fields, 'voucherCode'),
      trxCode: field(fields, 'trxCode'),
      // What the transaction page showed: acting on anything else needs a fresh look.
      seenState: field(fields, 'seenState'),
    };
    const parsed = resolutionSchema.safeParse(
      Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    );
    if (!parsed.success) throw new OperatorError(400, 'INVALID', firstIssue(parsed.error));
    const resolution = parsed.data;
    if (fields.confirm !== 'yes') {
      const row = await deps.store.getTransaction(n);
      if (!row) throw new OperatorError(404, 'NOT_FOUND', `no transaction ${n}`);
      const refusal = resolutionRefusal(row, resolution);
      if (refusal) throw refusal;
      const delivered = resolution.outcome === 'delivered';
      return page(
        c,
        ConfirmPage({
          chrome: chrome(c, 'transactions'),
          title: `Resolve ${n} as ${resolution.outcome}?`,
          lines: [
            `${n} is ${row.state}. It becomes ${delivered ? 'SUCCESS' : 'FAILED'}, for good: a final state never changes.`,
            delivered
              ? `Razer is told it was delivered, with referenceId “${resolution.trxCode ?? row.trxCode}”.`
              : 'Razer is told it was not delivered, and refunds the player.',
            ...(delivered && resolution.voucherCode
              ? [
                  `The player is given the voucher code “${resolution.voucherCode}”: check it character by character.`,
                ]
              : []),
            `Reason recorded, with you (${c.get('session').actor}) as the actor: “${resolution.reason}”.`,
          ],
          action: `${txHref(n)}/resolve`,
          // Pinned to the state this page states: the act is refused if it has moved since.
          fields: Object.fromEntries(
            Object.entries({ ...input, seenState: row.state }).filter(
              (e): e is [string, string] => e[1] !== undefined,
            ),
          ),
          cancelHref: txHref(n),
          danger: true,
        }),
      );
    }
    const row = await resolve(deps.operator, n, resolution, c.get('session').actor);
    return page(
      c,
      ResultPage({
        chrome: chrome(c, 'transactions'),
        title: `Resolved ${n}`,
        ok: true,
        lines: [`${n} is now ${row.state}.`, razerWillHear(row)],
        backHref: txHref(n),
        backLabel: `Back to ${n}`,
      }),
    );
  });

  app.post('/transactions/:transactionNumber/acknowledge', async (c) => {
    const n = numberParam(c);
    const fields = await form(c);
    const parsed = acknowledgementSchema.safeParse({
      reason: fields.reason ?? '',
      seenFlag: fields.seenFlag,
    });
    if (!parsed.success) throw new OperatorError(400, 'INVALID', firstIssue(parsed.error));
    if (fields.confirm !== 'yes') {
      const row = await deps.store.getTransaction(n);
      if (!row) throw new OperatorError(404, 'NOT_FOUND', `no transaction ${n}`);
      // The flag this page names is the one cleared: another raised since makes the act refuse.
      const seenFlag = parsed.data.seenFlag ?? row.attentionReason ?? '';
      if (
        row.attention &&
        (row.attentionReason ?? '').replace(/\r\n?/g, '\n') !== seenFlag.replace(/\r\n?/g, '\n')
      )
        throw new OperatorError(
          409,
          'CONFLICT',
          `${n} is flagged for another reason now (${row.attentionReason}); look again`,
        );
      return page(
        c,
        ConfirmPage({
          chrome: chrome(c, 'transactions'),
          title: `Acknowledge the flag of ${n}?`,
          lines: [
            `The flag “${seenFlag}” is cleared; the state (${row.state}) does not change.`,
            `Reason logged with you (${c.get('session').actor}) as the actor: “${parsed.data.reason}”.`,
          ],
          action: `${txHref(n)}/acknowledge`,
          fields: { reason: parsed.data.reason, seenFlag },
          cancelHref: txHref(n),
        }),
      );
    }
    const row = await acknowledge(
      deps.operator,
      n,
      parsed.data.reason,
      c.get('session').actor,
      parsed.data.seenFlag,
    );
    return page(
      c,
      ResultPage({
        chrome: chrome(c, 'transactions'),
        title: `Acknowledged ${n}`,
        ok: true,
        lines: [`${n} stays ${row.state}; its flag is cleared.`],
        backHref: txHref(n),
        backLabel: `Back to ${n}`,
      }),
    );
  });

  app.post('/webhooks/:id/replay', async (c) => {
    const parsedId = webhookIdParam.safeParse(c.req.param('id'));
    if (!parsedId.success) throw new OperatorError(400, 'INVALID', `id ${firstIssue(parsedId.error)}`);
    const id = parsedId.data;
    const fields = await form(c);
    const stored = await deps.store.getWebhook(id);
    if (!stored) throw new OperatorError(404, 'NOT_FOUND', `no webhook ${id}`);
    const back = stored.transactionRef ? txHref(stored.transactionRef) : '/console/transactions';
    if (fields.confirm !== 'yes')
      return page(
        c,
        ConfirmPage({
          chrome: chrome(c, 'transactions'),
          title: `Replay webhook #${id}?`,
          lines: [
            `It is processed again as if VCGamers had just sent it${stored.transactionRef ? ` (transaction ${stored.transactionRef})` : ''}.`,
            'A final state never changes: a contradicting webhook is checked with the supplier and flagged.',
          ],
          action: `/console/webhooks/${id}/replay`,
          fields: {},
          cancelHref: back,
        }),
      );
    const actor = c.get('session').actor;
    const outcome = await replayWebhook(deps.webhooks, id, actor);
    deps.logger.info({ webhook: id, actor, ...outcome }, 'operator replayed a webhook from the console');
    return page(
      c,
      ResultPage({
        chrome: chrome(c, 'transactions'),
        title: `Replayed webhook #${id}`,
        ok: true,
        lines: Object.entries(outcome).map(([k, v]) => `${k}: ${String(v)}`),
        backHref: back,
        backLabel: 'Back',
      }),
    );
  });

  /** The Sales page's range and grouping, defaults filled in; a 400 with its reason when wrong. */
  const reportQuery = (c: C): ReportQuery => {
    const parsed = reportQuerySchema.safeParse(
      salesForm(c.req.query(), deps.now(), deps.reportUtcOffsetMinutes),
    );
    if (!parsed.success) throw new OperatorError(400, 'INVALID', reportIssue(parsed.error));
    return { ...parsed.data, utcOffsetMinutes: deps.reportUtcOffsetMinutes };
  };

  app.get('/sales', async (c) => {
    const form = salesForm(c.req.query(), deps.now(), deps.reportUtcOffsetMinutes);
    const view = { chrome: chrome(c, 'sales'), form, utcOffsetMinutes: deps.reportUtcOffsetMinutes };
    const parsed = reportQuerySchema.safeParse(form);
    if (!parsed.success) return page(c, SalesPage({ ...view, error: reportIssue(parsed.error) }), 400);
    const query = { ...parsed.data, utcOffsetMinutes: deps.reportUtcOffsetMinutes };
    // The chart is per day whatever the table is per.
    const [days, perSku] = await Promise.all([
      salesReport(deps.store, { ...query, by: 'day' }),
      query.by === 'sku' ? salesReport(deps.store, query) : null,
    ]);
    const table = perSku ?? days;
    return page(c, SalesPage({ ...view, report: { days, table } }));
  });

  app.get('/sales/report.csv', async (c) => {
    const query = reportQuery(c);
    const report = await salesReport(deps.store, query);
    return c.body(reportCsv(report), 200, csvHeaders(salesCsvName(query)));
  });

  app.get('/sales/transactions.csv', async (c) => {
    const { from, to, utcOffsetMinutes } = reportQuery(c);
    const path = loggedPath(c);
    const body = await csvStream(transactionCsvLines(deps.store, { from, to, utcOffsetMinutes }), (err) =>
      deps.logger.error({ err, path }, 'transactions CSV cut short: its stream failed'),
    );
    return c.body(body, 200, csvHeaders(transactionsCsvName({ from, to })));
  });

  app.get('/supplier', async (c) =>
    page(c, SupplierPage({ chrome: chrome(c, 'supplier'), report: await deps.supplier() })),
  );

  app.get('/go-live', async (c) =>
    page(
      c,
      GoLivePage({ chrome: chrome(c, 'go-live'), view: await gatherGoLive(deps.goLive), now: deps.now() }),
    ),
  );

  app.all('*', (c) => {
    throw new OperatorError(404, 'NOT_FOUND', `no console page ${c.req.method} ${c.req.path}`);
  });

  // The console's errors, answered in one place, in its frame.
  app.onError((err, c) => {
    const signedIn = c.get('session') !== undefined;
    if (err instanceof OperatorError) {
      if (!signedIn) return page(c, SignInPage({ error: err.message }), err.status);
      return page(
        c,
        MessagePage({
          chrome: chrome(c, 'none'),
          title: err.status === 404 ? 'Not found' : 'Refused',
          kind: 'error',
          message: err.message,
        }),
        err.status,
      );
    }
    deps.logger.error({ err, path: loggedPath(c) }, 'console request failed: 500');
    const message = 'Internal error: nothing was changed unless the transaction’s timeline shows it.';
    if (!signedIn) return page(c, SignInPage({ error: message }), 500);
    return page(c, MessagePage({ chrome: chrome(c, 'none'), title: 'Error', kind: 'error', message }), 500);
  });

  return app;
}
