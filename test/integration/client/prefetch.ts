import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import {
  countEvents,
  deferred,
  FAST_WORKER,
  forJob,
  type MakeStore,
  mustGet,
  nextEvent,
  useHarness,
  within,
} from './fixtures.js';

/** gatedTask builds a task whose handlers wait for `open`, counting how many run at once. */
function gatedTask(name: string) {
  const open = deferred();
  const firstStarted = deferred();
  const ran: number[] = [];
  let active = 0;
  let mostActive = 0;
  const task = defineTask(name, {
    handler: async ({ n }: { n: number }) => {
      active += 1;
      mostActive = Math.max(mostActive, active);
      ran.push(n);
      firstStarted.resolve();
      await open.promise;
      active -= 1;
      return n;
    },
  });
  return { task, open, firstStarted: firstStarted.promise, ran, mostActive: () => mostActive };
}

export function prefetchSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('holds prefetched jobs leased without running more than concurrency at once', async () => {
    const gate = gatedTask('prefetch.gated');
    const client = await harness.client({ tasks: [gate.task] });
    const jobs = await client.enqueueMany(
      gate.task,
      Array.from({ length: 6 }, (_, n) => ({ n })),
    );
    const completed = countEvents([client], 'job:completed', 6);
    await client.start({ ...FAST_WORKER, concurrency: 2, prefetch: 4 });
    await within(gate.firstStarted, 'first handler started');

    const stats = await client.queueStats();
    assert.equal(stats[0]?.counts.running, 6, 'all six jobs are leased: two running, four buffered');
    assert.equal(gate.ran.length, 2, 'only two handlers started');

    gate.open.resolve();
    await completed;
    assert.equal(gate.mostActive(), 2);
    assert.deepEqual(
      [...gate.ran].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5],
      'each job ran once',
    );
    for (const { job } of jobs) assert.equal((await mustGet(client, job.id)).status, 'completed');
  });

  it('hands buffered jobs back at stop without spending their attempt, while started ones finish', async () => {
    const gate = gatedTask('prefetch.stop');
    const client = await harness.client({ tasks: [gate.task] });
    const jobs = await client.enqueueMany(
      gate.task,
      Array.from({ length: 4 }, (_, n) => ({ n })),
    );
    await client.start({ ...FAST_WORKER, concurrency: 1, prefetch: 3 });
    await within(gate.firstStarted, 'first handler started');

    const released = countEvents([client], 'job:released', 3);
    const stopping = client.stop({ graceMs: 10_000 });
    await released;
    gate.open.resolve();
    await within(stopping, 'stop');

    const stored = await Promise.all(jobs.map(({ job }) => mustGet(client, job.id)));
    const finished = stored.filter((job) => job.status === 'completed');
    const handedBack = stored.filter((job) => job.status === 'available');
    assert.equal(finished.length, 1, 'the started job finished within the grace period');
    assert.equal(handedBack.length, 3, 'the buffered jobs went back');
    for (const job of handedBack) {
      assert.equal(job.attempt, 0, 'the buffered attempt is not spent');
      assert.equal(job.leaseOwner, null);
    }
    assert.equal(gate.ran.length, 1, 'no buffered handler ran');
  });

  it('cancels a buffered job at once, without running its handler', async () => {
    const gate = gatedTask('prefetch.cancel');
    const client = await harness.client({ tasks: [gate.task] });
    const [, buffered] = await client.enqueueMany(gate.task, [{ n: 0 }, { n: 1 }]);
    assert.ok(buffered);
    await client.start({ ...FAST_WORKER, concurrency: 1, prefetch: 1 });
    await within(gate.firstStarted, 'first handler started');
    assert.equal((await mustGet(client, buffered.job.id)).status, 'running', 'the second job is buffered, leased');

    const cancelled = nextEvent(client, 'job:cancelled', forJob(buffered.job.id));
    await client.cancel(buffered.job.id);
    await cancelled;
    assert.equal((await mustGet(client, buffered.job.id)).status, 'cancelled');
    assert.deepEqual(gate.ran, [0], 'the cancelled job never ran, and the running one was not waited for');
    gate.open.resolve();
  });
}
