import { diag } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { startOtelTracing } from '../src/tracing/otel.js';
import { inSpan } from '../src/tracing/tracer.js';

// The OpenTelemetry tracer's own rules, in process; its spans go to memory, never to a network.

const exporter = new InMemorySpanExporter();
const lines: string[] = [];
const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
const warnings = () => lines.map((l) => JSON.parse(l) as { msg: string; leftOut: number });

const tracer = (propagateToMitra: boolean) =>
  startOtelTracing({
    instanceId: 'test',
    propagateToMitra,
    redact: (t) => t.replaceAll('s3cret', '[token]'),
    exporter,
    logger,
  });

beforeEach(() => {
  exporter.reset();
  lines.length = 0;
});

describe('the OpenTelemetry tracer', () => {
  it('gives Mitra a traceparent of the active span only when MITRA_TRACEPARENT is on', () => {
    for (const on of [true, false]) {
      const t = tracer(on);
      const span = t.start('HTTP POST', {}, 'client');
      const headers = span.within(() => t.outgoingHeaders());
      if (on) expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      else expect(headers).toEqual({});
      // Outside any span there is nothing to carry.
      expect(t.outgoingHeaders().traceparent).toBeUndefined();
      span.end();
    }
  });

  it('knows whether a span is active, and children follow their parent through awaits', async () => {
    const t = tracer(true);
    expect(t.active()).toBe(false);
    let inner: string | undefined;
    let outer: string | undefined;
    await t.request('GET /health', {}, async (_span, traceId) => {
      outer = traceId;
      await Promise.resolve();
      expect(t.active()).toBe(true);
      await inSpan(t, 'child', {}, async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        inner = t.outgoingHeaders().traceparent?.split('-')[1];
      });
    });
    expect(inner).toBe(outer);
    expect(t.active()).toBe(false);
    const [child, root] = exporter.getFinishedSpans();
    expect(child?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
  });

  it('fails a span on an error and passes the error on, its message redacted', async () => {
    const t = tracer(false);
    await expect(
      inSpan(t, 'db getTransaction', { 'gateway.transaction_number': 'T-1' }, async () =>
        Promise.reject(new TypeError('s3cret leaked')),
      ),
    ).rejects.toThrow('s3cret leaked');
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('db getTransaction');
    expect(span?.status).toEqual({ code: 2, message: '[token] leaked' });
    expect(span?.attributes).toEqual({ 'gateway.transaction_number': 'T-1', 'error.type': 'TypeError' });
  });

  it('marks a request failed when told, and puts the attributes it is given on its root', async () => {
    const t = tracer(false);
    await t.request('POST /transaction/init', { 'gateway.endpoint': 'init' }, async (span) => {
      t.onRequest({ 'gateway.sku': 'DIAMOND50' }, { name: 'state move', attributes: { from: 'A', to: 'B' } });
      span.failed('answered 500');
    });
    const [root] = exporter.getFinishedSpans();
    expect(root?.status).toEqual({ code: 2, message: 'answered 500' });
    expect(root?.attributes).toEqual({ 'gateway.endpoint': 'init', 'gateway.sku': 'DIAMOND50' });
    expect(root?.events.map((e) => [e.name, e.attributes])).toEqual([['state move', { from: 'A', to: 'B' }]]);
  });

  it("logs OpenTelemetry's own warnings, redacted, at most one a minute", () => {
    tracer(false);
    diag.error('export to http://collector/v1/traces failed:', new Error('s3cret refused'));
    diag.warn('again');
    diag.info('not a warning');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]?.msg).toBe(
      'tracing: export to http://collector/v1/traces failed: [token] refused (OpenTelemetry; at most one such line a minute)',
    );
  });
});
