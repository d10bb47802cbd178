import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookProcessor } from '../src/fulfilment/webhooks.js';
import { createLogger } from '../src/log.js';
import { T0 } from './helpers/fixtures.js';
import { countRows, type TempStore, tempStore } from './helpers/storage.js';

let store: TempStore;
beforeEach(async () => {
  store = await tempStore();
});
afterEach(() => store.close());

const unprocessed = () => countRows(store, 'webhook_inbox', 'processed_at is null');

describe('start-up recovery', () => {
  it('defect 8: every stored but unprocessed webhook is processed at start, past the first thousand, a page at a time', async () => {
    const body = JSON.stringify({ type: 'ping' }); // stored, then marked unrecognised when processed
    for (let i = 0; i < 1205; i++) {
      await store.storeWebhook({ receivedAt: T0, sourceIp: '127.0.0.1', headers: {}, body, bodySha256: 'x' });
    }
    let inFlight = 0;
    let mostInFlight = 0;
    const processor = new WebhookProcessor({
      store,
      engine: { advance: async () => true, findByReference: async () => undefined },
      refreshBrand: async () => 'ok',
      now: () => T0,
      logger: createLogger('silent'),
    });
    const process = processor.process.bind(processor);
    processor.process = async (id) => {
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await process(id);
      inFlight--;
    };
    expect(await processor.processBacklog(100)).toBe(1205);
    await processor.idle();
    expect(await unprocessed()).toBe(0);
    expect(mostInFlight).toBeLessThanOrEqual(100);
  });
});
