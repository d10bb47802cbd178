import {
  type Context,
  context,
  createContextKey,
  DiagLogLevel,
  defaultTextMapSetter,
  diag,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../log.js';
import type { ActiveSpan, Tracer, TraceSpan } from './tracer.js';

// Loaded only when tracing is asked for (see ./tracer.ts). The exporter, the batch processor,
// the sampler and the resource read the standard OTEL_* variables themselves (endpoint, headers,
// timeout, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*).

export interface OtelTracingOptions {
  /** service.instance.id, unless OTEL_RESOURCE_ATTRIBUTES names one. */
  instanceId: string;
  /** Send the trace context to Mitra in a `traceparent` header (MITRA_TRACEPARENT). */
  propagateToMitra: boolean;
  /** An error's message as it may be kept (configured secrets removed). */
  redact: (text: string) => string;
  /** Where spans go, each as it ends (tests); default OTLP/HTTP, batched. */
  exporter?: SpanExporter;
  /** Where OpenTelemetry's own warnings go (a collector down, refusing, misaddressed). */
  logger: Pick<Logger, 'warn'>;
}

/** Of OpenTelemetry's own complaints, at most one line a minute (with how many were left out). */
const DIAG_EVERY_MS = 60_000;

const ROOT = createContextKey('gateway request span');
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const MAX_MESSAGE = 300;

let contextManager: AsyncLocalStorageContextManager | null = null;

/**
 * Spans follow the request through awaits by AsyncLocalStorage. The global context manager is
 * set once per process (OpenTelemetry keeps the first); each gateway has its own provider and
 * exporter, so that two gateways in one process (tests) never share a pipeline.
 */
function ensureContextManager(): void {
  if (contextManager) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

/**
 * OpenTelemetry's warnings and errors (an export refused, a collector unreachable) to our log,
 * redacted and at most one a minute: silent by default, a misaddressed collector would go unseen.
 * Global, as OpenTelemetry's diagnostics are: the last gateway started in a process has them.
 */
function logDiagnostics(options: OtelTracingOptions): void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let left = 0;
  const say = (message: string, ...args: unknown[]) => {
    const at = performance.now();
    if (at - lastAt < DIAG_EVERY_MS) {
      left++;
      return;
    }
    lastAt = at;
    // Called from the exporter's error handler: a throw here would be an unhandled rejection.
    try {
      const text = [message, ...args.map(shown)].join(' ');
      options.logger.warn(
        { leftOut: left },
        `tracing: ${options.redact(text).slice(0, MAX_MESSAGE)} (OpenTelemetry; at most one such line a minute)`,
      );
    } catch {}
    left = 0;
  };
  const quiet = () => {};
  diag.setLogger(
    { error: say, warn: say, info: quiet, debug: quiet, verbose: quiet },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** A diagnostic's argument as text: an error's message (never its stack), else its JSON. */
function shown(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}

export function startOtelTracing(options: OtelTracingOptions): Tracer {
  ensureContextManager();
  logDiagnostics(options);
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        'service.name': 'razer-mitra-gateway',
        'service.instance.id': options.instanceId,
      }),
    )
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      options.exporter
        ? new SimpleSpanProcessor(options.exporter)
        : new BatchSpanProcessor(new OTLPTraceExporter()),
    ],
  });
  const tracer = provider.getTracer('razer-mitra-gateway');
  const propagator = new W3CTraceContextPropagator();

  const fail = (span: Span, error: unknown) => {
    const name = error instanceof Error ? error.name : typeof error;
    const message = options
      .redact(error instanceof Error ? error.message : String(error))
      .slice(0, MAX_MESSAGE);
    span.setAttribute('error.type', name);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  };

  const handle = (span: Span): TraceSpan => ({
    set: (attributes) => span.setAttributes(attributes),
    failed: (message) => span.setStatus({ code: SpanStatusCode.ERROR, message }),
  });

  const activeSpan = (span: Span, parent: Context): ActiveSpan => {
    const ctx = trace.setSpan(parent, span);
    return {
      ...handle(span),
      within: (fn) => context.with(ctx, fn),
      end: (error) => {
        if (error !== undefined) fail(span, error);
        span.end();
      },
    };
  };

  return {
    async request(name, attributes, run) {
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, root: true });
      const ctx = trace.setSpan(context.active(), span).setValue(ROOT, span);
      try {
        const result = await context.with(ctx, () => run(handle(span), span.spanContext().traceId));
        span.end();
        return result;
      } catch (err) {
        fail(span, err);
        span.end();
        throw err;
      }
    },
    start(name, attributes, kind) {
      const parent = context.active();
      const spanKind = kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL;
      return activeSpan(tracer.startSpan(name, { kind: spanKind, attributes }, parent), parent);
    },
    active: () => trace.getSpan(context.active()) !== undefined,
    onRequest(attributes, event) {
      const root = context.active().getValue(ROOT) as Span | undefined;
      if (!root) return;
      root.setAttributes(attributes);
      if (event) root.addEvent(event.name, event.attributes);
    },
    outgoingHeaders() {
      if (!options.propagateToMitra) return NO_HEADERS;
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, defaultTextMapSetter);
      return carrier;
    },
    shutdown: () => provider.shutdown(),
  };
}
