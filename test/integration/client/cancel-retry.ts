import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import { CancelledError, InvalidStateError } from '../../../src/errors/index.js';
import { deferred, FAST_WORKER, forJob, type MakeStore, mustGet, nextEvent, useHarness, watchCalls, within } from './fixtures.js';

/** blockingTask builds a task whose handler runs until its signal aborts, reporting start and abort reason. */
function blockingTask() {
  const started = deferred();
  const abortReason = deferred<unknown>();
  const task = defineTask('wait.for.abort', {
    handler: (_payload: Record<string, never>, { signal }) =>
      new Promise<never>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          abortReason.resolve(signal.reason);
          reject(signal.reason);
        });
        started.resolve();
      }),
  });
  return { task, started: started.promise, abortReason: abortReason.promise };
}

function assertInvalidState(status: string) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidStateError, `expected InvalidStateError, got ${String(error)}`);
    assert.equal(error.code, 'JOBYARD_INVALID_STATE');
    assert.equal(error.currentStatus, status);
    return true;
  };
}

export function cancelRetrySuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('cancels a waiting job at once; it never runs', async () => {
    let calls = 0;
    const never = defineTask('never.runs', {
      handler: () => {
        calls += 1;
      },
    });
    const client = await harness.client({ tasks: [never] });
    const { job } = await client.enqueue(never, {});
    const cancelledEvent = nextEvent(client, 'job:cancelled', forJob(job.id));
    const cancelled = await client.cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.ok(cancelled.finishedAt);
    await cancelledEvent;

    const claims = watchCalls(harness.store(), 'jobClaim');
    await client.start(FAST_WORKER);
    await claims.rounds(3);
    assert.equal(calls, 0);
    assert.equal((await mustGet(client, job.id)).status, 'cancelled');
    await assert.rejects(client.cancel(job.id), assertInvalidState('cancelled'));
  });

  it('aborts the signal of a running job and ends it cancelled', async () => {
    const { task, started, abortReason } = blockingTask();
    const client = await harness.client({ tasks: [task] });
    const { job } = await client.enqueue(task, {});
    // Leases long enough that no heartbeat comes within the test: the cancel must reach the handler directly.
    await client.start({ ...FAST_WORKER, leaseMs: 3_600_000 });
    await within(started, 'handler started');

    const cancelledEvent = nextEvent(client, 'job:cancelled', forJob(job.id));
    const requested = await client.cancel(job.id);
    assert.equal(requested.status, 'running', 'a running job is asked to stop, not cancelled under its handler');
    assert.equal(requested.cancelRequested, true);
    assert.ok((await within(abortReason, 'handler aborted')) instanceof CancelledError);
    await cancelledEvent;
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'cancelled');
    assert.ok(stored.finishedAt);
    assert.equal(stored.attempt, 1);
  });

  it('reaches the worker of another client when a running job is cancelled', async () => {
    const { task, started, abortReason } = blockingTask();
    const worker = await harness.client({ tasks: [task] });
    // Its own connections and no worker: like an API process beside the worker process.
    const api = await harness.client({ tasks: [task], ownStore: true });
    const { job } = await api.enqueue(task, {});
    // A store that notifies across processes must deliver the cancel that way, so heartbeats are
    // kept out of the test; otherwise the next heartbeat brings it.
    const heartbeats = worker.store.capabilities.crossProcessNotify ? { leaseMs: 3_600_000 } : { heartbeatIntervalMs: 50 };
    await worker.start({ ...FAST_WORKER, ...heartbeats });
    await within(started, 'handler started');

    const cancelledEvent = nextEvent(worker, 'job:cancelled', forJob(job.id));
    assert.equal((await api.cancel(job.id)).cancelRequested, true);
    assert.ok((await within(abortReason, 'handler aborted')) instanceof CancelledError);
    await cancelledEvent;
    assert.equal((await mustGet(api, job.id)).status, 'cancelled');
  });

  it('retries a failed job, keeping its error history', async () => {
    let calls = 0;
    const once = defineTask('fails.first', {
      maxAttempts: 1,
      handler: (_payload: Record<string, never>, { job }) => {
        calls += 1;
        if (calls === 1) throw new Error('first run fails');
        return { attempt: job.attempt };
      },
    });
    const client = await harness.client({ tasks: [once] });
    const { job } = await client.enqueue(once, {});
    const failed = nextEvent(client, 'job:failed', forJob(job.id));
    await client.start(FAST_WORKER);
    await failed;
    assert.equal((await mustGet(client, job.id)).status, 'failed');

    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    const retried = await client.retry(job.id);
    assert.equal(retried.status, 'available');
    assert.equal(retried.errors.length, 1);
    assert.equal(retried.maxAttempts, 2, 'its one attempt was spent, so the retry adds one');
    await completed;

    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 2);
    assert.deepEqual(stored.result, { attempt: 2 });
    assert.deepEqual(
      stored.errors.map((error) => [error.attempt, error.message]),
      [[1, 'first run fails']],
    );
  });

  it('retries a cancelled job', async () => {
    const echo = defineTask('echo', { handler: ({ word }: { word: string }) => word });
    const client = await harness.client({ tasks: [echo] });
    const { job } = await client.enqueue(echo, { word: 'again' });
    await client.cancel(job.id);
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    await client.start(FAST_WORKER);
    assert.equal((await client.retry(job.id)).status, 'available');
    await completed;
    assert.equal((await mustGet(client, job.id)).result, 'again');
  });

  it('refuses to retry or cancel a completed job with InvalidStateError', async () => {
    const echo = defineTask('echo', { handler: ({ word }: { word: string }) => word });
    const client = await harness.client({ tasks: [echo] });
    const { job } = await client.enqueue(echo, { word: 'done' });
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    await client.start(FAST_WORKER);
    await completed;

    await assert.rejects(client.retry(job.id), assertInvalidState('completed'));
    await assert.rejects(client.cancel(job.id), assertInvalidState('completed'));
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 1);
  });
}
