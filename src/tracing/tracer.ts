/**
 * What the gateway asks of tracing. The OpenTelemetry implementation (./otel.ts) is loaded only
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise no Tracer exists and every caller skips
 * its branch, so the hot path pays one `undefined` check and loads nothing.
 *
 * Attribute values are chosen by the callers from a short list: transaction numbers, SKUs,
 * states, operations and outcome classes. Never a header, a body, a URL's query, a key or a
 * signature.
 */
export type TraceAttributes = Readonly<Record<string, string | number | boolean>>;

export interface TraceSpan {
  set(attributes: TraceAttributes): void;
  /** Marks the span failed (an answer 5xx, say) with a message of the caller's words. */
  failed(message: string): void;
}

export interface ActiveSpan extends TraceSpan {
  /** Runs `fn` with this span active: spans started inside are its children. */
  within<T>(fn: () => T): T;
  /** Ends the span; an error marks it failed (its class and a redacted message). */
  end(error?: unknown): void;
}

export interface Tracer {
  /** A new trace for one inbound request: `run` inside its root span. */
  request<T>(
    name: string,
    attributes: TraceAttributes,
    run: (span: TraceSpan, traceId: string) => Promise<T>,
  ): Promise<T>;
  /** A child of the active span, or a new trace when there is none; `client` for a call out. */
  start(name: string, attributes: TraceAttributes, kind?: 'client' | 'internal'): ActiveSpan;
  /** Whether a span is active here (storage steps are traced only inside a trace). */
  active(): boolean;
  /** Attributes and an event for the root span of the request being served here, if any. */
  onRequest(attributes: TraceAttributes, event?: { name: string; attributes: TraceAttributes }): void;
  /** Headers that carry the active trace to Mitra: none unless the operator turned that on. */
  outgoingHeaders(): Readonly<Record<string, string>>;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** `run` inside a child span of the active one, ended when its promise settles. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: TraceAttributes,
  run: (span: TraceSpan) => Promise<T>,
  kind?: 'client' | 'internal',
): Promise<T> {
  const span = tracer.start(name, attributes, kind);
  try {
    const result = await span.within(() => run(span));
    span.end();
    return result;
  } catch (err) {
    span.end(err);
    throw err;
  }
}
