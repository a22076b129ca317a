import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, afterEach, beforeEach, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { defineTask, Jobyard, TRACE_CONTEXT_METADATA_KEY } from '../../src/core/index.js';
import type { Job } from '../../src/types/index.js';
import { waitForEvent } from '../helpers/event-waiter.js';
import { tempSqliteStore } from '../helpers/sqlite.js';

// The tests of this file run in order: first without an SDK (the API's no-op default),
// then with an in-memory one registered globally, as an app would.

/** logLines collects what a pino logger writes, one parsed JSON object per line. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const handled = defineTask('traced.work', {
  queue: 'traced',
  handler: async (_payload: unknown, { log }) => {
    await trace.getTracer('app').startActiveSpan('inside handler', async (span) => span.end());
    log.info('working');
    return 'done';
  },
});

const failing = defineTask('traced.fails', {
  queue: 'traced',
  maxAttempts: 1,
  handler: async () => {
    throw new Error('broken on purpose');
  },
});

let harness: { client: Jobyard; lines: Record<string, unknown>[]; cleanup: () => Promise<void> } | undefined;

beforeEach(async () => {
  const { store, cleanup } = await tempSqliteStore();
  const { logger, lines } = capturedLogger();
  harness = { client: new Jobyard({ store, tasks: [handled, failing], logger }), lines, cleanup };
});

afterEach(async () => {
  await harness?.client.close();
  await harness?.cleanup();
  harness = undefined;
});

after(() => {
  trace.disable();
  context.disable();
});

/** runToEnd starts a worker for the queue (after the enqueue: the job is claimed, not handed off) and waits for the job to end. */
async function runToEnd(client: Jobyard, job: Job, event: 'job:completed' | 'job:failed'): Promise<void> {
  const ended = waitForEvent(
    (listener) => client.events.on(event, listener as (event: { job: Job }) => void),
    (ended: { job: Job }) => ended.job.id === job.id,
    event,
  );
  await client.start({ queues: ['traced'] });
  await ended;
}

it('works without an SDK: no trace context in the job, no trace ids in its log', async () => {
  assert.ok(harness);
  const { client, lines } = harness;
  const { job } = await client.enqueue(handled, {});
  assert.deepEqual(job.metadata, {});
  await runToEnd(client, job, 'job:completed');
  const line = lines.find((entry) => entry.msg === 'working');
  assert.ok(line, JSON.stringify(lines));
  assert.deepEqual([line.jobId, line.task, line.attempt], [job.id, 'traced.work', 1]);
  assert.equal(line.traceId, undefined);
  assert.equal((await client.getJob(job.id))?.status, 'completed');
});

const exporter = new InMemorySpanExporter();

it('makes the execution span a child of the enqueue span, across the store, with job attributes and trace ids in the log', async () => {
  assert.ok(harness);
  const { client, lines } = harness;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  exporter.reset();

  // The enqueuing request's span, as an HTTP instrumentation would make it.
  const request = trace.getTracer('app').startSpan('POST /api/jobs');
  const { job } = await context.with(trace.setSpan(context.active(), request), () => client.enqueue(handled, { n: 1 }));
  request.end();
  await runToEnd(client, job, 'job:completed');

  const spans = exporter.getFinishedSpans();
  const byName = (name: string) => {
    const span = spans.find((candidate) => candidate.name === name);
    assert.ok(span, `span ${name} in ${spans.map((candidate) => candidate.name)}`);
    return span;
  };
  const enqueue = byName('enqueue traced.work');
  const claim = byName('claim');
  const execution = byName('process traced.work');
  const inside = byName('inside handler');
  const traceId = request.spanContext().traceId;

  assert.equal(enqueue.kind, SpanKind.PRODUCER);
  assert.equal(enqueue.spanContext().traceId, traceId);
  assert.equal(enqueue.parentSpanContext?.spanId, request.spanContext().spanId);
  assert.equal(enqueue.attributes['jobyard.job.id'], job.id);
  assert.equal(enqueue.attributes['jobyard.job.queue'], 'traced');

  const stored = (await client.getJob(job.id))?.metadata[TRACE_CONTEXT_METADATA_KEY] as { traceparent: string };
  assert.equal(stored.traceparent, `00-${traceId}-${enqueue.spanContext().spanId}-01`);

  assert.equal(execution.kind, SpanKind.CONSUMER);
  assert.equal(execution.spanContext().traceId, traceId);
  assert.equal(execution.parentSpanContext?.spanId, enqueue.spanContext().spanId);
  assert.deepEqual(
    ['jobyard.job.id', 'jobyard.job.task', 'jobyard.job.queue', 'jobyard.job.attempt', 'jobyard.job.outcome'].map(
      (key) => execution.attributes[key],
    ),
    [job.id, 'traced.work', 'traced', 1, 'completed'],
  );
  assert.equal(execution.status.code, SpanStatusCode.UNSET);
  assert.equal(inside.parentSpanContext?.spanId, execution.spanContext().spanId);

  // The claim is a trace of its own, linked from the execution.
  assert.equal(claim.kind, SpanKind.CLIENT);
  assert.notEqual(claim.spanContext().traceId, traceId);
  assert.equal(claim.attributes['messaging.batch.message_count'], 1);
  assert.deepEqual(
    execution.links.map((link) => link.context.spanId),
    [claim.spanContext().spanId],
  );

  const line = lines.find((entry) => entry.msg === 'working');
  assert.ok(line);
  assert.deepEqual(
    [line.jobId, line.task, line.attempt, line.traceId, line.spanId],
    [job.id, 'traced.work', 1, traceId, execution.spanContext().spanId],
  );
});

it('records the error of a failed attempt on its span, and a job enqueued outside any span starts a trace of its own', async () => {
  assert.ok(harness);
  const { client } = harness;
  exporter.reset();
  const { job } = await client.enqueue(failing, {});
  await runToEnd(client, job, 'job:failed');
  const spans = exporter.getFinishedSpans();
  const enqueue = spans.find((span) => span.name === 'enqueue traced.fails');
  const execution = spans.find((span) => span.name === 'process traced.fails');
  assert.ok(enqueue && execution);
  assert.equal(enqueue.parentSpanContext, undefined);
  assert.equal(execution.parentSpanContext?.spanId, enqueue.spanContext().spanId);
  assert.equal(execution.status.code, SpanStatusCode.ERROR);
  assert.equal(execution.status.message, 'broken on purpose');
  assert.equal(execution.attributes['jobyard.job.outcome'], 'failed');
  assert.deepEqual(
    execution.events.map((event) => [event.name, event.attributes?.['exception.message']]),
    [['exception', 'broken on purpose']],
  );
});

it('records an enqueue that fails validation as an error span', async () => {
  assert.ok(harness);
  const { client } = harness;
  exporter.reset();
  await assert.rejects(client.enqueue(handled, {}, { priority: 5000 }));
  const [span] = exporter.getFinishedSpans();
  assert.equal(span?.name, 'enqueue traced.work');
  assert.equal(span?.status.code, SpanStatusCode.ERROR);
});
