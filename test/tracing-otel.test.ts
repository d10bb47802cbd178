import { describe, expect, it } from 'vitest';
import { startOtelTracing } from '../src/tracing/otel.js';
import { inSpan } from '../src/tracing/tracer.js';

// The OpenTelemetry tracer's own rules, in process: no span here is ever ended, so nothing is
// exported anywhere.

const tracer = (propagateToMitra: boolean) =>
  startOtelTracing({
    instanceId: 'test',
    propagateToMitra,
    redact: (t) => t.replaceAll('s3cret', '[token]'),
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
  });

  it('fails a span on an error and passes the error on, its message redacted', async () => {
    const t = tracer(false);
    await expect(
      inSpan(t, 'db getTransaction', {}, async () => Promise.reject(new Error('s3cret leaked'))),
    ).rejects.toThrow('s3cret leaked');
  });
});
