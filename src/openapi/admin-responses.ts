import { z } from 'zod';
import type { Story, TransactionView } from '../admin/story.js';
import type { CatalogueJson, supplierReport } from '../admin/supplier.js';
import type { ExchangeRow, SupplierCallRow, TransactionEventRow, WebhookRow } from '../db/types.js';
import type { SaleFigures } from '../fulfilment/profit.js';
import { causeSchema, type State, stateSchema } from '../fulfilment/states.js';
import type { WebhookOutcome } from '../fulfilment/webhooks.js';
import type { SalesReport } from '../reports/sales.js';
import { described, named } from './responses.js';

// The admin API's answers. Their TypeScript types come from storage and the admin modules; the
// checks at the end of this file fail to compile when a schema here and its type part ways.

const int = z.int();
const time = () => described(z.int(), 'Epoch milliseconds.');
const nullableTime = () => described(z.int().nullable(), 'Epoch milliseconds; null when not set.');
const textMap = () => z.record(z.string(), z.string());

const state = named(stateSchema, 'TransactionState', 'Where a transaction is in its life.');

export const transactionView = named(
  z.object({
    transactionNumber: z.string(),
    apiId: described(z.string(), 'The Razer api-id that initiated it.'),
    sku: z.string(),
    brandKey: z.string(),
    variationKey: z.string(),
    maxPrice: described(z.int(), 'The price ceiling (IDR) the mapping had at init.'),
    isVoucher: z.boolean(),
    accountId: z.string(),
    supplierData: described(
      z.array(z.object({ key: z.string(), value: z.string() })),
      "The order's `data` fields for the supplier, built from the account at init.",
    ),
    razerId: z.string().nullable(),
    userIp: z.string().nullable(),
    countryCode: z.string().nullable(),
    customParam: textMap().nullable(),
    state,
    refId: described(z.string(), "The supplier ref_id: the order's idempotency key."),
    trxCode: described(z.string().nullable(), "The supplier's trx_code, once an order was accepted."),
    orderAttempts: int,
    resends: int,
    priceOffered: int.nullable(),
    pricePaid: int.nullable(),
    voucherCode: z.string().nullable(),
    failureCode: described(z.string().nullable(), 'The Razer error code a failure is answered with.'),
    failureReason: z.string().nullable(),
    expiresAt: time(),
    deadlineAt: described(
      z.int().nullable(),
      'Epoch milliseconds: when it is flagged for an operator if still open (its top-up plus the RESOLVE_DEADLINE of that time); null before the top-up.',
    ),
    toppedUpAt: described(
      z.int().nullable(),
      'Epoch milliseconds: when Razer topped it up (it waits from then). Null before the top-up, and on transactions already final when the gateway began keeping it.',
    ),
    nextCheckAt: nullableTime(),
    checks: int,
    attention: described(z.boolean(), 'Flagged for an operator.'),
    attentionReason: z.string().nullable(),
    createdAt: time(),
    updatedAt: time(),
    queriesRepeated: described(
      int,
      'Queries answered exactly as an answer already recorded for this transaction: counted, not stored again.',
    ),
    lastQueriedAt: nullableTime(),
    limitKey: described(
      z.string().nullable(),
      'What the per-account daily limit counts this purchase by: a hash of its normalised supplier data (values trimmed and lowercased, leading zeros of numeric fields dropped). Null on transactions created before the gateway kept it; those count by accountId.',
    ),
    revenueMinor: described(
      z.int().nullable(),
      "What the sale earns if delivered, recorded at init from the SKU's `revenue`: in its currency's minor units (ISO 4217: 99 for 0.99 USD). The five revenue fields are null when the SKU had no revenue, and on transactions created before the gateway kept it.",
    ),
    revenueCurrency: described(z.string().nullable(), 'The ISO 4217 currency of `revenueMinor`.'),
    revenueRateE6: described(
      z.int().nullable(),
      'The rate used at init: IDR per unit of the currency, times 1,000,000 (1,000,000 for IDR).',
    ),
    revenueRateSet: described(
      z.string().nullable(),
      "The day that rate was set (YYYY-MM-DD), from the mapping's `rates:`; null for IDR.",
    ),
    revenueIdr: described(
      z.int().nullable(),
      'The revenue at that rate, in whole IDR rounded half up, computed in integers.',
    ),
  }),
  'TransactionView',
  'A transaction as operators see it: its top-up token stays inside the gateway.',
);

export const transactionEvent = named(
  z.object({
    id: int,
    transactionNumber: z.string(),
    fromState: state,
    toState: state,
    cause: causeSchema,
    detail: z.string().nullable(),
    at: time(),
    instanceId: z.string().nullable(),
    actor: described(z.string().nullable(), "The operator of an operator's move."),
  }),
  'TransactionEvent',
  'One move of a transaction between states.',
);

export const exchange = named(
  z.object({
    id: int,
    transactionNumber: z.string().nullable(),
    endpoint: z.string(),
    apiId: z.string(),
    method: z.string(),
    path: z.string(),
    requestHash: z.string(),
    requestBody: described(z.string(), 'As received, the transaction token replaced by `[token]`.'),
    responseStatus: int,
    responseHeaders: textMap(),
    responseBody: z.string(),
    receivedAt: time(),
    respondedAt: time(),
  }),
  'RazerExchange',
  'An authenticated Razer request and the answer it got.',
);

export const supplierCall = named(
  z.object({
    id: int,
    transactionNumber: z.string().nullable(),
    operation: z.string(),
    method: z.string(),
    url: described(z.string(), 'The signature redacted.'),
    requestBody: z.string().nullable(),
    httpStatus: int.nullable(),
    replyBody: z.string().nullable(),
    rcCode: z.string().nullable(),
    outcome: z.string(),
    error: z.string().nullable(),
    startedAt: time(),
    durationMs: int,
    instanceId: z.string().nullable(),
  }),
  'SupplierCall',
  'A call to VCGamers Mitra and its reply.',
);

export const storedWebhook = named(
  z.object({
    id: int,
    receivedAt: time(),
    sourceIp: z.string(),
    headers: described(textMap(), 'As received; any header but a few harmless ones shows `[redacted]`.'),
    body: z.string(),
    bodySha256: z.string(),
    kind: z.string().nullable(),
    transactionRef: z.string().nullable(),
    processedAt: nullableTime(),
    result: z.string().nullable(),
  }),
  'StoredWebhook',
  'A Mitra webhook as received, and what came of it.',
);

const recordedRevenue = z.object({
  amount: described(z.string(), 'In its own currency, every minor digit written: `0.99`.'),
  currency: z.string(),
  rate: described(z.string(), 'IDR per unit of the currency, as used at init (`1` for IDR).'),
  rateSet: described(z.string().nullable(), 'The day that rate was set (YYYY-MM-DD); null for IDR.'),
  idr: described(z.int(), 'The amount at that rate, whole IDR rounded half up.'),
});

export const saleFigures = named(
  z.object({
    outcome: described(
      z.enum(['open', 'delivered', 'not-delivered']),
      '`open` until final; `delivered` (SUCCESS); `not-delivered` (FAILED, refunded included, CANCELLED, EXPIRED).',
    ),
    revenue: described(
      recordedRevenue.nullable(),
      'What the sale earns if delivered, as recorded at init; null: not recorded (the SKU had no revenue then, or the sale is older than the revenue columns).',
    ),
    revenueIdr: described(
      int.nullable(),
      'What it earned, whole IDR: the recorded revenue when delivered, 0 when not; null while open or not recorded.',
    ),
    costIdr: described(int.nullable(), 'What it cost, whole IDR; null while open or not recorded.'),
    costFrom: described(
      z.enum(['supplier', 'order-price', 'nothing-charged', 'not-recorded', 'open']),
      "`supplier`: the supplier's charged amount (selling_total, or grand_total at delivery); `order-price`: the supplier did not say, so the price sent with the order; `nothing-charged`: not delivered.",
    ),
    profitIdr: described(int.nullable(), 'revenueIdr - costIdr; null unless both are known.'),
  }),
  'SaleFigures',
  'What a sale cost, earned and made, in IDR, from what it recorded when each happened: a later edit of the mapping or the rates changes none of it.',
);

export const story = named(
  z.object({
    transaction: transactionView,
    money: saleFigures,
    events: z.array(transactionEvent),
    exchanges: z.array(exchange),
    supplierCalls: z.array(supplierCall),
    webhooks: z.array(storedWebhook),
  }),
  'TransactionStory',
  'Everything recorded about one transaction, each list oldest first.',
);

const next = described(z.string().nullable(), 'Pass as `cursor` for the next page; null on the last page.');

export const transactionPage = named(
  z.object({ items: z.array(transactionView), next }),
  'TransactionPage',
  'Flagged first, then the other open ones oldest first, then final ones newest first.',
);

export const webhookPage = named(
  z.object({ items: z.array(storedWebhook), next }),
  'WebhookPage',
  'Newest first.',
);

export const recheckResult = named(
  z.object({
    before: state,
    completed: described(z.boolean(), 'Whether the step ran to its end (false: another step held it).'),
    transaction: transactionView,
  }),
  'RecheckResult',
  'The transaction after the supplier was asked again.',
);

export const transactionResult = named(
  z.object({ transaction: transactionView }),
  'TransactionResult',
  'The transaction after the action.',
);

export const replayResult = named(
  z.object({ id: int, kind: z.string(), transactionRef: z.string().nullable(), result: z.string() }),
  'ReplayResult',
  'What the stored webhook led to when read again.',
);

const brandView = z.object({
  isActive: z.boolean(),
  isVoucher: z.boolean().nullable(),
  forms: z.array(
    z.object({
      key: z.string(),
      type: z.string(),
      alias: z.string().optional(),
      options: z.array(z.string()).optional(),
    }),
  ),
});
const variationView = z.object({ name: z.string(), price: int, isActive: z.boolean() });
const catalogue = {
  brands: described(z.record(z.string(), brandView), 'By brand key.'),
  variations: described(
    z.record(z.string(), z.record(z.string(), variationView)),
    'By brand key, then variation key. A brand absent here: its variations could not be fetched.',
  ),
};

const choiceLabel = described(
  z.union([z.literal('main'), z.templateLiteral(['backup', z.int()])]),
  '`main`, or `backupN`: the Nth backup variation of the SKU, as listed in the mapping.',
);
const optionCheck = {
  brand: z.string(),
  variation: z.string(),
  maxPrice: int,
  price: int.nullable(),
  margin: int.nullable(),
  marginPercent: z.number().nullable(),
  active: z.boolean(),
  problems: z.array(z.string()),
};

export const supplierReportBody = named(
  z.object({
    balance: z.object({ idr: int, at: time() }).nullable(),
    balanceAlertBelowIdr: int.nullable(),
    balanceLow: z.boolean(),
    catalogue: z.object({
      brandsAgeSeconds: int.nullable(),
      oldestVariationsAgeSeconds: int.nullable(),
    }),
    limiter: z.object({
      inWindow: int,
      waiting: z.object({ order: int, query: int }),
      pausedForMs: z.number(),
    }),
    guards: described(
      z.object({
        committedIdr: described(
          z.int().nullable(),
          'What open purchases will still be charged by Mitra (IDR): paid orders not sent yet, at their order price, else their max_price. Null: unknown (see unread).',
        ),
        availableIdr: described(
          z.int().nullable(),
          'The balance minus committedIdr: an init of a SKU priced above it is refused OOS (while the balance is younger than BALANCE_GUARD_MAX_AGE). Null: no balance read, or committedIdr unknown.',
        ),
        queuedOrders: described(
          z.int().nullable(),
          'Paid orders waiting for their create-order slot, on every instance. Null: unknown (see unread).',
        ),
        expectedWaitSeconds: described(
          z.number().nullable(),
          'How long a new order would wait for its create-order slot: queuedOrders × (window + margin) / limit of MITRA_RATE_LIMIT. Null: unknown (see unread).',
        ),
        maxWaitSeconds: described(
          z.number().nullable(),
          'MAX_SUPPLIER_WAIT: above it inits are refused OOS. Null: the queue guard is off.',
        ),
        unread: described(
          z
            .object({
              reason: described(z.string(), 'Why the last read of the open purchases failed.'),
              since: described(z.int(), 'When the reads began failing (epoch milliseconds).'),
              figuresReadAt: described(
                z.int().nullable(),
                'When the figures shown were read (epoch milliseconds): the last good ones, which the guards judge by for a minute after. Null: none that recent; the figures are unknown and the guards refuse nothing.',
              ),
            })
            .nullable(),
          'Null while the open purchases are read. Else the guards fail open: they judge by the last good figures for a minute, then by none (no init is refused for the balance or the queue) until a read succeeds again.',
        ),
      }),
      'Sell only what can be delivered: the figures the init guards judge by, read at most once a second.',
    ),
    skus: z.array(
      z.object({
        sku: z.string(),
        enabled: z.boolean(),
        ...optionCheck,
        sellsThrough: described(
          z
            .object({
              choice: choiceLabel,
              brand: z.string(),
              variation: z.string(),
              price: int,
              maxPrice: int,
            })
            .nullable(),
          'The supplier product a sale goes through now, chosen as init chooses: the first option that is active, priced within its max_price and payable by the balance guard. Null: disabled, or no option can sell.',
        ),
        passedOver: described(
          z.array(z.string()),
          'Why each option before that one (every option, when none can sell) is passed over, one line each.',
        ),
        backups: described(
          z.array(z.object({ choice: choiceLabel, ...optionCheck })),
          "The SKU's backup variations in the order they are tried (backup1 first); the fields above are the main's.",
        ),
      }),
    ),
    problems: described(
      z.array(z.string()),
      "The enabled SKUs' problems: what keeps them from selling (a SKU that sells through a backup: only its main's form problems).",
    ),
    warnings: described(
      z.array(z.string()),
      'Problems of options an enabled SKU passes over while it sells through another.',
    ),
  }),
  'SupplierReport',
  'The supplier balance, the age of the cached catalogue, the rate limiter, the figures of the init guards and every SKU against its price.',
);

export const catalogueRefreshResult = named(
  z.object({
    refreshed: z.object({
      brands: described(z.string(), '`ok`, or why the cached brand list was kept.'),
      variations: described(
        z.record(z.string(), z.string()),
        'By brand key: `ok`, or why the cache was kept.',
      ),
    }),
    ...catalogue,
  }),
  'CatalogueRefresh',
  'What each fetch did, then what the cache now holds about the variations named.',
);

const count = (what: string) => described(z.int(), what);

export const salesReportLine = named(
  z.object({
    key: described(z.string(), 'The day (YYYY-MM-DD at the offset) or the SKU; `total` on the total line.'),
    sold: count(
      'Purchases topped up (the buyer paid) and not cancelled: delivered + failed + refunded + open.',
    ),
    delivered: count('SUCCESS.'),
    failed: count('FAILED before the supplier took an order: answered failed, Razer refunds the buyer.'),
    refunded: count('FAILED after the supplier took the order: failed or refunded at the supplier.'),
    open: count('Topped up, not final yet (QUEUED, ORDERING, PROCESSING, UNKNOWN).'),
    revenueIdr: described(z.int(), 'What the delivered sales earned, whole IDR, as recorded at init.'),
    costIdr: described(z.int(), 'What they cost, whole IDR.'),
    profitIdr: described(z.int(), 'revenueIdr - costIdr; negative at a loss.'),
    unpriced: count('Delivered sales whose revenue or cost was not recorded: left out of the money figures.'),
  }),
  'SalesReportLine',
  'One day or one SKU of a sales report, or its total.',
);

export const salesReportBody = named(
  z.object({
    query: z.object({
      from: described(z.string(), 'The first day, YYYY-MM-DD at the offset, included.'),
      to: described(z.string(), 'The last day, YYYY-MM-DD at the offset, included.'),
      by: z.enum(['day', 'sku']),
      utcOffsetMinutes: described(
        z.int(),
        'Where days begin: minutes east of UTC (REPORT_UTC_OFFSET; 420 for +07:00).',
      ),
    }),
    lines: described(z.array(salesReportLine), 'By day or by SKU, as asked.'),
    total: salesReportLine,
  }),
  'SalesReport',
  'Sales of the purchases created in the range, per day or per SKU, and their total: counts by outcome and revenue, cost and profit in whole IDR, from what each sale recorded when it happened.',
);

/** Both ways assignable: a column added, dropped or retyped on either side fails to compile. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

export type AdminAnswersMatchTheirTypes = [
  Holds<Same<z.infer<typeof transactionView>, TransactionView>>,
  Holds<Same<z.infer<typeof transactionEvent>, TransactionEventRow>>,
  Holds<Same<z.infer<typeof exchange>, ExchangeRow>>,
  Holds<Same<z.infer<typeof supplierCall>, SupplierCallRow>>,
  Holds<Same<z.infer<typeof storedWebhook>, WebhookRow>>,
  Holds<Same<z.infer<typeof story>, Story>>,
  Holds<Same<z.infer<typeof saleFigures>, SaleFigures>>,
  Holds<Same<z.infer<typeof recheckResult>['before'], State>>,
  Holds<Same<Omit<z.infer<typeof replayResult>, 'id'>, WebhookOutcome>>,
  Holds<Same<z.infer<typeof supplierReportBody>, Awaited<ReturnType<typeof supplierReport>>>>,
  Holds<Same<Omit<z.infer<typeof catalogueRefreshResult>, 'refreshed'>, CatalogueJson>>,
  Holds<Same<z.infer<typeof salesReportBody>, SalesReport>>,
];
