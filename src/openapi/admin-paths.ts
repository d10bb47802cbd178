import { z } from 'zod';
import { salesCsvName, transactionsCsvName } from '../admin/reports.js';
import { MAX_ADMIN_BODY } from '../admin/routes.js';
import {
  catalogueRefreshBody,
  MAX_PAGE,
  salesReportQuery,
  transactionListQuery,
  transactionsCsvParams,
  webhookIdParam,
  webhookListQuery,
} from '../admin/schemas.js';
import type { Story, TransactionView } from '../admin/story.js';
import { TRANSACTION_STATES } from '../db/vocabulary.js';
import { limitKey } from '../fulfilment/limit-key.js';
import { acknowledgementSchema, actorSchema, resolutionSchema } from '../fulfilment/operator.js';
import { saleFigures } from '../fulfilment/profit.js';
import {
  MAX_REPORT_DAYS,
  type ReportLine,
  reportCsv,
  type SalesReport,
  TRANSACTION_CSV_HEADER,
} from '../reports/sales.js';
import {
  catalogueRefreshResult,
  recheckResult,
  replayResult,
  salesReportBody,
  story,
  supplierReportBody,
  transactionPage,
  transactionResult,
  webhookPage,
} from './admin-responses.js';
import { type Examples, errorExamples, jsonBody, jsonResponse, ref, textResponse } from './build.js';
import { componentRef, queryParameters, requestDocs, requestSchema } from './json-schema.js';
import { ADMIN_SECURITY } from './operations-paths.js';
import { errorBody } from './responses.js';
import type { Header, Operation, Parameter, PathsPart, Response } from './types.js';

requestDocs.add(resolutionSchema, {
  id: 'Resolution',
  description:
    "An operator's settlement of a transaction the gateway could not settle. `delivered` needs the supplier's trxCode unless the transaction has one, and a voucherCode for a voucher.",
});
requestDocs.add(acknowledgementSchema, {
  id: 'Acknowledgement',
  description: 'Why the flag of a final transaction can be cleared.',
});
requestDocs.add(catalogueRefreshBody, {
  id: 'CatalogueRefreshRequest',
  description: 'The variations to fetch now, as the mapping names them (at most 100 distinct brands).',
});

const N = 'LIST-1';

/** The admin errors, by status: what each code means is the same on every route. */
const ERRORS = {
  400: (examples: readonly (readonly [string, string])[]) =>
    jsonResponse(
      'The request is not valid: a parameter, the X-Operator header or the body.',
      errorBody(['INVALID']),
      errorExamples(examples.map(([message, summary]) => ['INVALID', message, summary] as const)),
    ),
  404: (message: string) =>
    jsonResponse(
      'No such thing.',
      errorBody(['NOT_FOUND']),
      errorExamples([['NOT_FOUND', message, 'Unknown']]),
    ),
  409: (examples: readonly (readonly ['CONFLICT' | 'BUSY', string, string])[]) =>
    jsonResponse(
      'Not possible in the current state (CONFLICT), or a step holds it now (BUSY: try again in a few seconds).',
      errorBody(examples.some(([code]) => code === 'BUSY') ? ['CONFLICT', 'BUSY'] : ['CONFLICT']),
      errorExamples(examples),
    ),
  413: () =>
    jsonResponse(
      `The body is larger than ${MAX_ADMIN_BODY / 1024} KiB.`,
      errorBody(['TOO_LARGE']),
      errorExamples([['TOO_LARGE', `the body is larger than ${MAX_ADMIN_BODY} bytes`, 'Too large']]),
    ),
  500: () =>
    jsonResponse(
      'An unexpected error.',
      errorBody(['FAILED']),
      errorExamples([
        ['FAILED', 'internal error; nothing was changed unless the story shows it', 'Unexpected'],
      ]),
    ),
};

const transactionNumber: Parameter = {
  name: 'transactionNumber',
  in: 'path',
  required: true,
  // The admin routes check the same rule with a pattern of their own.
  schema: componentRef('TransactionNumber'),
};

const BAD_NUMBER = ['not a transaction number', 'Not a transaction number'] as const;
const BAD_OPERATOR = ['must be 1-64 ASCII letters, digits, spaces or . _ @ + -', 'Bad X-Operator'] as const;

interface Route {
  operationId: string;
  summary: string;
  description: string;
  parameters?: Parameter[];
  /** Takes X-Operator: the actor recorded on what it does. */
  acts?: boolean;
  body?: { schema: z.ZodType; examples: Examples };
  ok: Response;
  errors: Partial<Record<400 | 404 | 409 | 413, Response>>;
}

function operation(r: Route): Operation {
  const parameters = [...(r.parameters ?? []), ...(r.acts ? [ref('parameters', 'XOperator')] : [])];
  return {
    operationId: r.operationId,
    summary: r.summary,
    description: r.description,
    tags: ['admin'],
    security: [{ [ADMIN_SECURITY]: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(r.body ? { requestBody: jsonBody(r.body.schema, r.body.examples) } : {}),
    responses: {
      '200': r.ok,
      ...r.errors,
      '401': ref('responses', 'AdminUnauthorized'),
      '500': ERRORS[500](),
    },
  };
}

const exampleData = [
  { key: 'user_id', value: '123456' },
  { key: 'zone_id', value: '12' },
];

// Typed: a column added to the row and missing here fails to compile (the tests' schema check
// found one only at run time).
const transactionExample: TransactionView = {
  transactionNumber: N,
  apiId: 'publisherA',
  sku: 'DIAMOND50',
  brandKey: 'MLBB',
  variationKey: 'MLBB112',
  maxPrice: 20000,
  isVoucher: false,
  accountId: '123456-12',
  supplierData: exampleData,
  razerId: 'RZR_0060d83c4d40bb9f10fb00bc0000',
  userIp: '23.199.128.1',
  countryCode: 'MY',
  customParam: { serverId: 'MY01' },
  state: 'PROCESSING',
  refId: `RG-${N}`,
  trxCode: 'VCG26112200001',
  orderAttempts: 1,
  resends: 0,
  priceOffered: 19000,
  pricePaid: null,
  voucherCode: null,
  failureCode: null,
  failureReason: null,
  expiresAt: 1795435200000,
  deadlineAt: 1795435200000,
  toppedUpAt: 1795348800000,
  nextCheckAt: 1795348860000,
  checks: 2,
  attention: true,
  attentionReason: 'no final outcome within the deadline',
  createdAt: 1795348800000,
  updatedAt: 1795348830000,
  queriesRepeated: 14,
  lastQueriedAt: 1795349100000,
  limitKey: limitKey(exampleData, [
    { key: 'user_id', type: 'numeric' },
    { key: 'zone_id', type: 'numeric' },
  ]),
  revenueMinor: 99,
  revenueCurrency: 'USD',
  revenueRateE6: 16_250_500_000,
  revenueRateSet: '2026-12-01',
  revenueIdr: 16088,
};

/** A story of `transaction` with its figures and nothing recorded around it. */
const storyExample = (transaction: TransactionView): Story => ({
  transaction,
  money: saleFigures(transaction),
  events: [],
  exchanges: [],
  supplierCalls: [],
  webhooks: [],
});

const STATE_LIST = TRANSACTION_STATES.join(', ');
const INSTANT = 'An ISO 8601 time (`2026-11-22`, `2026-11-22T10:00:00Z`) or epoch milliseconds.';
const LIMIT = `Items per page, 1 to ${MAX_PAGE}.`;

function listTransactions(): Route {
  return {
    operationId: 'adminListTransactions',
    summary: 'List transactions',
    description:
      'Flagged first, then the other open ones oldest first, then final ones newest first. Unknown parameters are refused (400), so a typo never widens a listing.',
    parameters: queryParameters(transactionListQuery, {
      state: `States, comma-separated, any case: ${STATE_LIST}.`,
      attention: '`true`: flagged for an operator only; `false`: not flagged only.',
      sku: 'This SKU only.',
      since: `Created at or after. ${INSTANT}`,
      until: `Created before. ${INSTANT}`,
      q: 'Exactly a transaction number, a supplier ref_id or a trx_code.',
      limit: LIMIT,
      cursor: 'The `next` of the previous page (opaque).',
    }),
    ok: jsonResponse('A page.', transactionPage, {
      page: { summary: 'One flagged transaction', value: { items: [transactionExample], next: null } },
    }),
    errors: {
      400: ERRORS[400]([
        [`state must be among ${STATE_LIST}`, 'Unknown state'],
        ['unknown parameter status', 'Unknown parameter'],
      ]),
    },
  };
}

function transactionAction(
  operationId: string,
  summary: string,
  description: string,
  body: Route['body'],
  ok: Response,
  conflicts: Parameters<(typeof ERRORS)[409]>[0],
): Route {
  return {
    operationId,
    summary,
    description,
    parameters: [transactionNumber],
    acts: true,
    ...(body ? { body } : {}),
    ok,
    errors: {
      400: ERRORS[400](
        body
          ? [BAD_NUMBER, BAD_OPERATOR, ['reason must say why, in at least 3 characters', 'Bad body']]
          : [BAD_NUMBER, BAD_OPERATOR],
      ),
      404: ERRORS[404](`no transaction ${N}`),
      409: ERRORS[409](conflicts),
      413: ERRORS[413](),
    },
  };
}

const afterAction = () =>
  jsonResponse('The transaction now.', transactionResult, {
    after: {
      summary: 'After',
      value: { transaction: { ...transactionExample, state: 'SUCCESS', attention: false } },
    },
  });

const day = (key: string, line: Omit<ReportLine, 'key' | 'sold' | 'profitIdr'>): ReportLine => ({
  key,
  ...line,
  sold: line.delivered + line.failed + line.refunded + line.open,
  profitIdr: line.revenueIdr - line.costIdr,
});

/** Two days at +07:00: one with a refund and a loss-making sale, one with a sale still open. */
const reportExample = (): SalesReport => {
  const lines = [
    day('2026-12-01', {
      delivered: 2,
      failed: 0,
      refunded: 1,
      open: 0,
      revenueIdr: 23613,
      costIdr: 25000,
      unpriced: 0,
    }),
    day('2026-12-02', {
      delivered: 1,
      failed: 1,
      refunded: 0,
      open: 1,
      revenueIdr: 17063,
      costIdr: 15000,
      unpriced: 0,
    }),
  ];
  const sum = (k: Exclude<keyof ReportLine, 'key'>) => lines.reduce((n, l) => n + l[k], 0);
  return {
    query: { from: '2026-12-01', to: '2026-12-02', by: 'day', utcOffsetMinutes: 420 },
    lines,
    total: day('total', {
      delivered: sum('delivered'),
      failed: sum('failed'),
      refunded: sum('refunded'),
      open: sum('open'),
      revenueIdr: sum('revenueIdr'),
      costIdr: sum('costIdr'),
      unpriced: sum('unpriced'),
    }),
  };
};

const DAY = `A day written YYYY-MM-DD, at REPORT_UTC_OFFSET (the gateway's report offset).`;
const RANGE = `Purchases created from the start of \`from\` to the end of \`to\`, both included, at most ${MAX_REPORT_DAYS} days.`;

const reportParameters = (withBy: boolean): Parameter[] =>
  withBy
    ? queryParameters(salesReportQuery, {
        from: `The first day. ${DAY}`,
        to: `The last day, included. ${DAY}`,
        by: 'A line per `day` or per `sku`.',
      })
    : queryParameters(transactionsCsvParams, {
        from: `The first day. ${DAY}`,
        to: `The last day, included. ${DAY}`,
      });

const REPORT_ERRORS = (withBy: boolean) =>
  ERRORS[400]([
    ['from must be a day written YYYY-MM-DD, got "yesterday"', 'Not a day'],
    ['to (2026-11-01) must not be before from (2026-11-30)', 'Backwards'],
    [`the range 2025-01-01 to 2026-12-31 spans 730 days; at most ${MAX_REPORT_DAYS}`, 'Too long'],
    ...(withBy
      ? ([['by must be day or sku, got "month"', 'Unknown grouping']] as const)
      : ([['unknown parameter by', 'Unknown parameter']] as const)),
  ]);

const disposition = (example: string): Record<string, Header> => ({
  'Content-Disposition': {
    description: `A download, its file name naming the range: \`attachment; filename="${example}"\`.`,
    schema: { type: 'string' },
  },
});

const ROUTES = (): Record<string, Partial<Record<'get' | 'post', Route>>> => ({
  '/admin/transactions': { get: listTransactions() },
  '/admin/transactions/{transactionNumber}': {
    get: {
      operationId: 'adminTransactionStory',
      summary: "A transaction's story",
      description:
        'The transaction, its moves, the Razer exchanges (token cut out), the supplier calls and the webhooks about it, each oldest first.',
      parameters: [transactionNumber],
      ok: jsonResponse('The story.', story, {
        story: {
          summary: 'Just initiated',
          value: storyExample({ ...transactionExample, state: 'INITIATED', trxCode: null, attention: false }),
        },
        delivered: {
          summary: 'Delivered: its cost, revenue and profit',
          value: storyExample({
            ...transactionExample,
            state: 'SUCCESS',
            pricePaid: 15000,
            attention: false,
          }),
        },
      }),
      errors: { 400: ERRORS[400]([BAD_NUMBER]), 404: ERRORS[404](`no transaction ${N}`) },
    },
  },
  '/admin/transactions/{transactionNumber}/recheck': {
    post: transactionAction(
      'adminRecheck',
      'Ask the supplier again now',
      'Sends a queued order, or looks up an ordering/unknown/processing one, within the rate limit, as the reconciler would. A final one is checked against the order status; a contradiction is flagged, never applied.',
      undefined,
      jsonResponse('The transaction after the check.', recheckResult, {
        delivered: {
          summary: 'Now delivered',
          value: {
            before: 'PROCESSING',
            completed: true,
            transaction: { ...transactionExample, state: 'SUCCESS' },
          },
        },
      }),
      [['CONFLICT', `${N} is INITIATED: it never went to the supplier`, 'Never sent']],
    ),
  },
  '/admin/transactions/{transactionNumber}/resolve': {
    post: transactionAction(
      'adminResolve',
      'Settle an open transaction by hand',
      "Moves an open transaction (or a flagged queued one) to SUCCESS or FAILED, holding its step lease meanwhile; the event records the operator and the reason. Razer's next query answers from it. A final state never changes.",
      {
        schema: resolutionSchema,
        examples: {
          delivered: {
            summary: 'Delivered, seen in the supplier dashboard',
            value: { outcome: 'delivered', reason: 'delivered per VCGamers support ticket 4411' },
          },
          failed: { summary: 'Not delivered', value: { outcome: 'failed', reason: 'refunded by VCGamers' } },
        },
      },
      afterAction(),
      [
        ['CONFLICT', `${N} is already SUCCESS; a final state never changes`, 'Already final'],
        ['BUSY', `a step is under way on ${N}; try again in a few seconds`, 'A step holds it'],
      ],
    ),
  },
  '/admin/transactions/{transactionNumber}/acknowledge': {
    post: transactionAction(
      'adminAcknowledge',
      'Clear the flag of a final transaction',
      'For a contradiction settled outside the gateway (with Razer Gold and VCGamers). The state never changes; the acknowledgement is logged with the operator.',
      {
        schema: acknowledgementSchema,
        examples: {
          settled: { summary: 'Settled', value: { reason: 'refund agreed with Razer, case 8812' } },
        },
      },
      afterAction(),
      [
        ['CONFLICT', `${N} is not flagged`, 'Not flagged'],
        ['BUSY', `a step is under way on ${N}; try again in a few seconds`, 'A step holds it'],
      ],
    ),
  },
  '/admin/webhooks': {
    get: {
      operationId: 'adminListWebhooks',
      summary: 'List stored webhooks',
      description: 'Newest first. Unknown parameters are refused (400).',
      parameters: queryParameters(webhookListQuery, {
        processed: '`true`: processed only; `false`: not processed yet only.',
        kind: 'This kind only (`transaction`, `product`, `unrecognised`).',
        transaction: 'Those matched to this transaction number.',
        since: `Received at or after. ${INSTANT}`,
        until: `Received before. ${INSTANT}`,
        limit: LIMIT,
        cursor: 'The `next` of the previous page.',
      }),
      ok: jsonResponse('A page.', webhookPage, {
        empty: { summary: 'None', value: { items: [], next: null } },
      }),
      errors: { 400: ERRORS[400]([['processed must be true or false', 'Not a flag']]) },
    },
  },
  '/admin/webhooks/{id}/replay': {
    post: {
      operationId: 'adminReplayWebhook',
      summary: 'Read a stored webhook again',
      description:
        'Acts on it as if it had just come, against the current state. Safe to repeat: only forward moves are applied.',
      parameters: [{ name: 'id', in: 'path', required: true, schema: requestSchema(webhookIdParam) }],
      acts: true,
      ok: jsonResponse('What it led to.', replayResult, {
        checked: {
          summary: 'Status checked',
          value: {
            id: 42,
            kind: 'transaction',
            transactionRef: N,
            result: 'replayed by admin: status checked',
          },
        },
      }),
      errors: {
        400: ERRORS[400]([['id must be a webhook id (a whole number)', 'Not an id'], BAD_OPERATOR]),
        404: ERRORS[404]('no webhook 42'),
        409: ERRORS[409]([
          [
            'BUSY',
            'a step kept the transaction of webhook 42; try again in a few seconds',
            'A step holds it',
          ],
        ]),
        413: ERRORS[413](),
      },
    },
  },
  '/admin/supplier': {
    get: {
      operationId: 'adminSupplier',
      summary: 'The supplier side at a glance',
      description:
        'The balance, the age of the cached catalogue, the rate limiter, the figures the init guards judge by (the committed balance, the supplier queue and its expected wait), and every SKU against its price ceiling, with the variation it sells through now (its main, or a backup while the main cannot sell).',
      ok: jsonResponse('The report.', supplierReportBody, {
        report: {
          summary: 'One SKU, selling through its backup while its main variation is inactive',
          value: {
            balance: { idr: 1_500_000, at: 1795348800000 },
            balanceAlertBelowIdr: 500_000,
            balanceLow: false,
            catalogue: { brandsAgeSeconds: 120, oldestVariationsAgeSeconds: 300 },
            limiter: { inWindow: 3, waiting: { order: 0, query: 0 }, pausedForMs: 0 },
            guards: {
              committedIdr: 45_000,
              availableIdr: 1_455_000,
              queuedOrders: 3,
              expectedWaitSeconds: 0.9,
              maxWaitSeconds: 600,
              unread: null,
            },
            skus: [
              {
                sku: 'DIAMOND50',
                enabled: true,
                brand: 'MLBB',
                variation: 'MLBB112',
                maxPrice: 16000,
                price: 15000,
                margin: 1000,
                marginPercent: 6.3,
                active: false,
                problems: ['SKU DIAMOND50: main MLBB/MLBB112: variation MLBB112 of brand MLBB is inactive'],
                sellsThrough: {
                  choice: 'backup1',
                  brand: 'MLBB',
                  variation: 'MLBB112B',
                  price: 15500,
                  maxPrice: 16500,
                },
                passedOver: ['main MLBB/MLBB112: inactive at the supplier'],
                backups: [
                  {
                    choice: 'backup1',
                    brand: 'MLBB',
                    variation: 'MLBB112B',
                    maxPrice: 16500,
                    price: 15500,
                    margin: 1000,
                    marginPercent: 6.1,
                    active: true,
                    problems: [],
                  },
                ],
              },
            ],
            problems: [],
            warnings: ['SKU DIAMOND50: main MLBB/MLBB112: variation MLBB112 of brand MLBB is inactive'],
          },
        },
      }),
      errors: {},
    },
  },
  '/admin/reports/sales': {
    get: {
      operationId: 'adminSalesReport',
      summary: 'Sales, revenue, cost and profit per day or per SKU',
      description: `${RANGE} Each sale counts on the day it was created. Money is whole IDR, from what each sale recorded when it happened: a later edit of the mapping or the rates changes no past figure. The total is the sum of the lines.`,
      parameters: reportParameters(true),
      ok: jsonResponse('The report.', salesReportBody, {
        byDay: { summary: 'Two days', value: reportExample() },
      }),
      errors: { 400: REPORT_ERRORS(true) },
    },
  },
  '/admin/reports/sales.csv': {
    get: {
      operationId: 'adminSalesReportCsv',
      summary: 'The same report as a CSV file',
      description: `The lines of /admin/reports/sales, then the total, one row each. ${RANGE}`,
      parameters: reportParameters(true),
      ok: textResponse(
        'The report as CSV (RFC 4180: comma-separated, CRLF line ends).',
        z.string(),
        { byDay: { summary: 'Two days', value: reportCsv(reportExample()) } },
        'text/csv',
        disposition(salesCsvName(reportExample().query)),
      ),
      errors: { 400: REPORT_ERRORS(true) },
    },
  },
  '/admin/reports/transactions.csv': {
    get: {
      operationId: 'adminTransactionsCsv',
      summary: 'One row per transaction, for the accountant',
      description: `To match against Razer's settlement statement and Mitra's invoices. ${RANGE} Every state is listed; money is whole IDR (a delivered sale's revenue also in its own currency), and the columns revenue_idr, cost_idr and profit_idr sum to the total of /admin/reports/sales for the same range. Streamed: a year of transactions is never held in memory.`,
      parameters: reportParameters(false),
      ok: textResponse(
        'The transactions as CSV (RFC 4180), the header row first.',
        z.string(),
        {
          header: {
            summary: 'A range without transactions: the header alone',
            value: `${TRANSACTION_CSV_HEADER.join(',')}\r\n`,
          },
        },
        'text/csv',
        disposition(transactionsCsvName({ from: '2026-12-01', to: '2026-12-31' })),
      ),
      errors: { 400: REPORT_ERRORS(false) },
    },
  },
  '/admin/supplier/catalogue': {
    post: {
      operationId: 'adminRefreshCatalogue',
      summary: 'Fetch the catalogue now',
      description:
        "Fetches the brand list and the named variations' brands now (each brand is one supplier call, queued behind purchases), then reads them back. One at a time.",
      body: {
        schema: catalogueRefreshBody,
        examples: {
          one: { summary: 'One SKU', value: { items: [{ brand: 'MLBB', variation: 'MLBB112' }] } },
        },
      },
      ok: jsonResponse('What was fetched, and what the cache holds now.', catalogueRefreshResult, {
        fetched: {
          summary: 'Fetched',
          value: {
            refreshed: { brands: 'ok', variations: { MLBB: 'ok' } },
            brands: {
              MLBB: {
                isActive: true,
                isVoucher: false,
                forms: [
                  { key: 'user_id', type: 'numeric', alias: 'User ID' },
                  { key: 'zone_id', type: 'numeric', alias: 'Zone ID' },
                ],
              },
            },
            variations: { MLBB: { MLBB112: { name: '112 Diamonds', price: 15000, isActive: true } } },
          },
        },
      }),
      errors: {
        400: ERRORS[400]([['items may name at most 100 distinct brands', 'Too many brands']]),
        409: ERRORS[409]([
          ['BUSY', 'a catalogue fetch is under way; try again when it ends', 'Already fetching'],
        ]),
        413: ERRORS[413](),
      },
    },
  },
});

export function adminPaths(): PathsPart {
  const paths: PathsPart['paths'] = {};
  for (const [path, methods] of Object.entries(ROUTES())) {
    paths[path] = Object.fromEntries(
      Object.entries(methods).map(([method, route]) => [method, operation(route)]),
    );
  }
  return {
    paths,
    parameters: {
      XOperator: {
        name: 'X-Operator',
        in: 'header',
        required: false,
        description: 'Who acts, recorded on the events and logs of the action. `admin` when absent.',
        schema: requestSchema(actorSchema),
      },
    },
  };
}
