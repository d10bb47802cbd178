import type { Store } from '../db/store.js';
import type { Move, MoveResult } from '../db/types.js';
import { inSpan, type TraceAttributes, type Tracer } from './tracer.js';

/** Methods whose first argument is a transaction number. */
const BY_NUMBER = new Set<PropertyKey>([
  'getTransaction',
  'listEvents',
  'patchTransaction',
  'flagForOperator',
  'claimStep',
  'renewStep',
  'releaseStep',
  'findCreatingInit',
  'listExchanges',
  'listSupplierCalls',
]);

/**
 * Not a request's steps: synchronous, the store's own life, or the audit writer's batch (many
 * requests' rows, written on a timer that runs in whichever request's context set it).
 */
const UNTRACED = new Set<PropertyKey>([
  'onFinal',
  'rateBudget',
  'close',
  'migrate',
  'writeAudit',
  'constructor',
]);

function numberOf(method: PropertyKey, args: readonly unknown[]): string | null {
  const first = args[0];
  if (typeof first === 'string') return BY_NUMBER.has(method) ? first : null;
  if (first !== null && typeof first === 'object' && 'transactionNumber' in first) {
    const n = (first as { transactionNumber: unknown }).transactionNumber;
    return typeof n === 'string' ? n : null;
  }
  return null;
}

/** What a step's result says that a reader of the trace wants: a move applied or not, a row's SKU. */
function describe(
  tracer: Tracer,
  method: PropertyKey,
  args: readonly unknown[],
  result: unknown,
): TraceAttributes {
  if (method === 'moveTransaction') {
    const move = args[0] as Move;
    const moved = result as MoveResult;
    const attributes = {
      'gateway.state.from': move.from,
      'gateway.state.to': move.to,
      'gateway.move.cause': move.cause,
      'gateway.move.applied': moved.ok,
      ...(moved.ok ? {} : { 'gateway.move.refused': moved.reason }),
    };
    if (moved.ok)
      tracer.onRequest(
        { 'gateway.state': move.to },
        { name: 'state move', attributes: { from: move.from, to: move.to, cause: move.cause } },
      );
    return attributes;
  }
  // A row read, or a row written (an init's).
  const sku = skuOf(result) ?? skuOf(args[0]);
  if (sku === null) return {};
  tracer.onRequest({ 'gateway.sku': sku });
  return { 'gateway.sku': sku };
}

const skuOf = (value: unknown): string | null =>
  value !== null && typeof value === 'object' && 'sku' in value && typeof value.sku === 'string'
    ? value.sku
    : null;

/**
 * The store with a span per step (`db <method>`), taken only inside a trace: a background tick
 * (the reconciler's claim every half second, a scrape's counts) makes no trace of its own.
 * Arguments are not recorded: only the transaction number a step is about, and of its result
 * the state move or the row's SKU.
 */
export function tracedStore(store: Store, tracer: Tracer): Store {
  const system = store.dialect === 'postgres' ? 'postgresql' : 'sqlite';
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const known = wrappers.get(property);
      if (known) return known;
      const method = value as (...args: unknown[]) => unknown;
      const wrapper = UNTRACED.has(property)
        ? method.bind(target)
        : (...args: unknown[]) => {
            if (!tracer.active()) return method.apply(target, args);
            const n = numberOf(property, args);
            return inSpan(
              tracer,
              `db ${String(property)}`,
              {
                'db.system.name': system,
                'db.operation.name': String(property),
                ...(n === null ? {} : { 'gateway.transaction_number': n }),
              },
              async (span) => {
                const result = await method.apply(target, args);
                span.set(describe(tracer, property, args, result));
                return result;
              },
            );
          };
      wrappers.set(property, wrapper);
      return wrapper;
    },
  });
}
