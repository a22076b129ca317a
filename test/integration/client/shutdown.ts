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

export function shutdownSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('lets running jobs finish within the grace period and claims nothing new', async () => {
    const finish = deferred();
    const task = defineTask('shutdown.short', {
      handler: async ({ n }: { n: number }) => {
        await finish.promise;
        return n;
      },
    });
    const client = await harness.client({ tasks: [task] });
    const started = countEvents([client], 'job:started', 3);
    await client.start({ ...FAST_WORKER, concurrency: 4 });
    const jobs = await client.enqueueMany(task, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await started;

    let stopped = false;
    const stopping = client.stop({ graceMs: 10_000 }).then(() => {
      stopped = true;
    });
    const late = await client.enqueue(task, { n: 4 });
    assert.equal(stopped, false, 'stop waits for the running jobs');
    finish.resolve();
    await within(stopping, 'stop');

    for (const { job } of jobs) {
      const stored = await mustGet(client, job.id);
      assert.equal(stored.status, 'completed');
      assert.equal(stored.result, job.payload.n);
    }
    const untouched = await mustGet(client, late.job.id);
    assert.equal(untouched.status, 'available', 'a stopping worker claims no new job');
    assert.equal(untouched.attempt, 0);
  });

  it('hands a job running past the grace period back without spending its attempt', async () => {
    const abortSeen = deferred<boolean>();
    const started = deferred();
    const stuck = defineTask('shutdown.long', {
      handler: (_payload: Record<string, never>, { signal }) =>
        new Promise<never>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            abortSeen.resolve(signal.aborted);
            reject(signal.reason);
          });
          started.resolve();
        }),
    });
    const first = await harness.client({ tasks: [stuck] });
    const { job } = await first.enqueue(stuck, {});
    await first.start(FAST_WORKER);
    await within(started.promise, 'handler started');

    const released = nextEvent(first, 'job:released', forJob(job.id));
    await first.stop({ graceMs: 50 });
    assert.equal(await within(abortSeen.promise, 'handler aborted'), true, "the handler's signal aborts past the grace period");
    await released;
    const handedBack = await mustGet(first, job.id);
    assert.ok(['available', 'scheduled'].includes(handedBack.status), `status ${handedBack.status}`);
    assert.equal(handedBack.attempt, 0, 'the interrupted attempt is not spent');
    assert.deepEqual(handedBack.errors, []);
    assert.equal(handedBack.leaseOwner, null);

    const finisher = defineTask('shutdown.long', { handler: (_payload: Record<string, never>, { job }) => job.attempt });
    const second = await harness.client({ tasks: [finisher], ownStore: true });
    const completed = nextEvent(second, 'job:completed', forJob(job.id));
    await second.start(FAST_WORKER);
    await completed;
    const stored = await mustGet(second, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 1);
    assert.equal(stored.result, 1);
  });
}
