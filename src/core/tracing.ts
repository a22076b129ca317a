import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Job, JsonValue } from '../types/index.js';

/**
 * Tracing through `@opentelemetry/api` only: every call below is a no-op unless the app
 * registers an SDK's tracer provider. Spans: `enqueue <task>` (producer) around an enqueue,
 * `claim` (client) around a claim that took jobs or failed, and `process <task>` (consumer)
 * around each attempt, the child of the enqueue span through the W3C trace context stored
 * in the job's metadata under TRACE_CONTEXT_METADATA_KEY.
 */

/**
 * TRACE_CONTEXT_METADATA_KEY is the metadata field holding the W3C trace context
 * (`{ traceparent, tracestate? }`) of the span that enqueued a job. It is only written while
 * a span records (an SDK is installed and samples the trace).
 */
export const TRACE_CONTEXT_METADATA_KEY = 'jobyardTraceContext';

/** TraceContext is the W3C trace context carried in a job. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

// The API's proxy tracer: it hands over to the provider the app registers, even a later one.
const tracer = trace.getTracer('jobyard');

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** startEnqueueSpan starts the producer span of one enqueue call, a child of the caller's active span. */
export function startEnqueueSpan(task: string): Span {
  return tracer.startSpan(`enqueue ${task}`, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'jobyard', 'messaging.operation.type': 'send', 'jobyard.job.task': task },
  });
}

/** setEnqueuedJob adds the attributes of the job an enqueue stored (or found by its dedup key). */
export function setEnqueuedJob(span: Span, job: Job, created: boolean): void {
  if (!span.isRecording()) return;
  span.setAttributes({ ...jobAttributes(job), 'jobyard.job.created': created });
}

/**
 * traceContextOf is the W3C trace context of a recording span, to store in a job; null when
 * the span does not record, so a process without an SDK writes nothing.
 */
export function traceContextOf(span: Span | undefined): TraceContext | null {
  if (span === undefined || !span.isRecording()) return null;
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const carried: TraceContext = { traceparent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}` };
  const state = traceState?.serialize();
  if (state) carried.tracestate = state;
  return carried;
}

/** activeTraceContext is the trace context of the caller's active span, when it records. */
export function activeTraceContext(): TraceContext | null {
  return traceContextOf(trace.getActiveSpan());
}

/**
 * recordClaim records the `claim` span of a claim that took jobs or failed, after the fact
 * (an idle worker's empty claims would only be noise), and returns its context for the
 * execution spans to link to.
 */
export function recordClaim(
  startTime: Date,
  claim: { queues: readonly string[]; workerId: string; count: number },
  error?: unknown,
): SpanContext {
  const span = tracer.startSpan(
    'claim',
    {
      kind: SpanKind.CLIENT,
      startTime,
      attributes: {
        'messaging.system': 'jobyard',
        'messaging.operation.type': 'receive',
        'jobyard.queues': [...claim.queues],
        'jobyard.worker.id': claim.workerId,
        'messaging.batch.message_count': claim.count,
      },
    },
    ROOT_CONTEXT,
  );
  if (error !== undefined) recordError(span, error);
  span.end();
  return span.spanContext();
}

/**
 * startExecutionSpan starts the consumer span of one attempt: a child of the enqueue span
 * carried in the job (a root span when there is none), linked to the claim that took it.
 */
export function startExecutionSpan(job: Job, claim: SpanContext | null): Span {
  return tracer.startSpan(
    `process ${job.task}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { ...jobAttributes(job), 'messaging.operation.type': 'process' },
      ...(claim !== null && isSpanContextValid(claim) ? { links: [{ context: claim }] } : {}),
    },
    carriedContext(job.metadata[TRACE_CONTEXT_METADATA_KEY]),
  );
}

/** runInSpan runs `work` with `span` active, so that the handler's own spans are its children. */
export function runInSpan<T>(span: Span, work: () => T): T {
  return context.with(trace.setSpan(ROOT_CONTEXT, span), work);
}

/** endExecutionSpan ends an attempt's span with its outcome; failed attempts record their error. */
export function endExecutionSpan(span: Span, outcome: string, error?: unknown): void {
  if (span.isRecording()) {
    span.setAttribute('jobyard.job.outcome', outcome);
    if (error !== undefined) recordError(span, error);
  }
  span.end();
}

/** recordError marks a span failed with `error`. */
export function recordError(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const exception = error instanceof Error ? error : new Error(String(error));
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}

/** traceLogFields are the ids a log line about a span's work carries: none without a valid span context. */
export function traceLogFields(span: Span | null): { traceId?: string; spanId?: string } {
  if (span === null) return {};
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {};
}

function jobAttributes(job: Job): Attributes {
  return {
    'messaging.system': 'jobyard',
    'messaging.destination.name': job.queue,
    'messaging.message.id': job.id,
    'jobyard.job.id': job.id,
    'jobyard.job.task': job.task,
    'jobyard.job.queue': job.queue,
    'jobyard.job.attempt': job.attempt,
  };
}

/** carriedContext turns a stored trace context back into a parent context; the root context when absent or malformed. */
function carriedContext(carried: JsonValue | undefined): Context {
  if (typeof carried !== 'object' || carried === null || Array.isArray(carried)) return ROOT_CONTEXT;
  const { traceparent, tracestate } = carried;
  const match = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  if (match === null) return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: match[1] as string,
    spanId: match[2] as string,
    traceFlags: Number.parseInt(match[3] as string, 16),
    isRemote: true,
    ...(typeof tracestate === 'string' && tracestate !== '' ? { traceState: createTraceState(tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}
