import type { SimBrand } from './catalogue.js';
import type { OrderEnding } from './mitra-sim.js';

/**
 * Sandbox products that always end one way, as a real sandbox may offer for testing: for
 * `gateway conformance --fail-product SIMTEST/FAIL10 --refund-product SIMTEST/REFUND10`, whose
 * failure and refund readings need an order that ends so.
 */
export const SCENARIO_BRAND = 'SIMTEST';
export const FAIL_VARIATION = 'FAIL10';
export const REFUND_VARIATION = 'REFUND10';

export function scenarioBrands(): SimBrand[] {
  return [
    {
      key: SCENARIO_BRAND,
      name: 'Sandbox scenarios',
      isVoucher: false,
      isActive: true,
      forms: [{ key: 'user_id', type: 'numeric', alias: 'User ID' }],
      variations: [
        { key: FAIL_VARIATION, name: 'Always fails', price: 10000, isActive: true },
        { key: REFUND_VARIATION, name: 'Always refunded', price: 10000, isActive: true },
      ],
    },
  ];
}

/** How an order of a scenario product ends; undefined for every other product. */
export function scenarioEnding(brandKey: string, variationKey: string): OrderEnding | undefined {
  if (brandKey !== SCENARIO_BRAND) return undefined;
  if (variationKey === FAIL_VARIATION) return { kind: 'fail', sn: 'Sandbox: this product always fails' };
  if (variationKey === REFUND_VARIATION)
    return { kind: 'refund', sn: 'Sandbox: this product is always refunded' };
  return undefined;
}
