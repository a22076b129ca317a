import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import { countEvents, deferred, forJob, type MakeStore, mustGet, nextEvent, useHarness, watchCalls, within } from './fixtures.js';

/** No poll wakes during a test: an idle worker stays idle until something happens. */
const QUIET_WORKER = { pollIntervalMs: 60_000 };

export function handOffSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('hands a job enqueued in its own process to an idle worker, already leased', async () => {
    const square = defineTask('hand-off.square', { handler: ({ n }: { n: number }) => n * n });
    const client = await harness.client({ tasks: [square] });
    const firstClaim = watchCalls(harness.store(), 'jobClaim').rounds(1);
    const worker = await client.start(QUIET_WORKER);
    await firstClaim;

    const completed = countEvents([client], 'job:completed', 1);
    const { job, created } = await client.enqueue(square, { n: 7 });
    assert.equal(created, true);
    assert.equal(job.status, 'running', 'inserted running: no claim needed');
    assert.equal(job.attempt, 1);
    assert.equal(job.leaseOwner, worker.id);
    await completed;
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.result, 49);
    assert.equal(stored.attempt, 1);
  });

  it('leaves the job waiting when the worker has no free slot, and runs it after', async () => {
    const release = deferred();
    const started = deferred();
    const slow = defineTask('hand-off.slow', {
      handler: async () => {
        started.resolve();
        await release.promise;
      },
    });
    const client = await harness.client({ tasks: [slow] });
    await client.start({ ...QUIET_WORKER, concurrency: 1 });
    const first = await client.enqueue(slow, {});
    await within(started.promise, 'first job started');

    const second = await client.enqueue(slow, {});
    assert.equal(second.job.status, 'available', 'a busy worker takes no hand-off');
    const secondDone = nextEvent(client, 'job:completed', forJob(second.job.id));
    release.resolve();
    await secondDone;
    assert.equal((await mustGet(client, first.job.id)).status, 'completed');
  });

  it('never hands off a delayed job or one with a concurrency key', async () => {
    const noop = defineTask('hand-off.noop', { handler: () => null });
    const client = await harness.client({ tasks: [noop] });
    const firstClaim = watchCalls(harness.store(), 'jobClaim').rounds(1);
    await client.start(QUIET_WORKER);
    await firstClaim;

    const delayed = await client.enqueue(noop, {}, { delayMs: 60_000 });
    assert.equal(delayed.job.status, 'scheduled');
    const keyedDone = nextEvent(client, 'job:completed');
    const keyed = await client.enqueue(noop, {}, { concurrencyKey: 'tenant-1' });
    assert.equal(keyed.job.status, 'available', 'keyed jobs go through a claim, which counts the key');
    assert.equal((await keyedDone).job.id, keyed.job.id);
  });
}
