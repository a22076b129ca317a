import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import {
  deferred,
  FAKE_CLOCK_WORKER,
  FakeClock,
  forJob,
  type MakeStore,
  mustGet,
  nextEvent,
  useHarness,
  watchCalls,
  within,
} from './fixtures.js';

const RESCUE_OFTEN = { intervalMs: 50 };

function assertLeaseExpiredRecord(errors: { attempt: number; message: string }[]): void {
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.attempt, 1);
  assert.match(errors[0]?.message ?? '', /lease expired/);
}

export function leaseSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it("rescues a dead worker's job after its lease and runs it on a live worker", async () => {
    const clock = new FakeClock();
    const task = defineTask('lease.rescued', {
      handler: (_payload: Record<string, never>, { job }) => ({ attempt: job.attempt }),
    });
    const client = await harness.client({ tasks: [task], clock, rescuer: RESCUE_OFTEN });
    const { job } = await client.enqueue(task, {});
    // A worker that claims the job and then dies: nothing renews or settles this lease.
    const [claimed] = await harness.store().jobClaim({
      queues: ['default'],
      workerId: 'dead-worker',
      limit: 1,
      leaseMs: 1_000,
      now: clock.now(),
    });
    assert.equal(claimed?.job.id, job.id);

    const claims = watchCalls(harness.store(), 'jobClaim');
    const rescued = nextEvent(client, 'job:rescued', forJob(job.id));
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    await client.start(FAKE_CLOCK_WORKER);
    await claims.rounds(3);
    const stillHeld = await mustGet(client, job.id);
    assert.equal(stillHeld.status, 'running', 'a live lease is left alone');
    assert.equal(stillHeld.leaseOwner, 'dead-worker');

    clock.advance(1_001);
    await rescued;
    await completed;
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 2);
    assert.deepEqual(stored.result, { attempt: 2 });
    assertLeaseExpiredRecord(stored.errors);
  });

  it('keeps the lease of a live worker by heartbeats', async () => {
    const clock = new FakeClock();
    const running = deferred();
    const finish = deferred();
    const task = defineTask('lease.kept', {
      handler: async () => {
        running.resolve();
        await finish.promise;
        return 'kept';
      },
    });
    const client = await harness.client({ tasks: [task], clock, rescuer: RESCUE_OFTEN });
    const { job } = await client.enqueue(task, {});
    const renewals = watchCalls(harness.store(), 'jobLeaseRenew');
    await client.start({ ...FAKE_CLOCK_WORKER, leaseMs: 1_000, heartbeatIntervalMs: 20 });
    await within(running.promise, 'handler started');
    // Three times 600 ms is well past the first lease; each heartbeat in between extends it.
    for (let step = 0; step < 3; step += 1) {
      clock.advance(600);
      await renewals.rounds(2);
    }
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    finish.resolve();
    await completed;
    const stored = await mustGet(client, job.id);
    assert.equal(stored.attempt, 1);
    assert.deepEqual(stored.errors, []);
  });

  it('rejects the late result of a worker that lost its lease, keeping the newer one', async () => {
    const clock = new FakeClock();
    const slowStarted = deferred();
    const slowFinish = deferred();
    const slowTask = defineTask('lease.fenced', {
      handler: async () => {
        slowStarted.resolve();
        await slowFinish.promise;
        return { by: 'lost worker' };
      },
    });
    const quickTask = defineTask('lease.fenced', { handler: () => ({ by: 'live worker' }) });
    const lost = await harness.client({ tasks: [slowTask], clock, rescuer: RESCUE_OFTEN });
    const live = await harness.client({ tasks: [quickTask], clock, rescuer: RESCUE_OFTEN, ownStore: true });
    const { job } = await lost.enqueue(slowTask, {});
    // No heartbeat within the test: this worker hangs from the store's point of view.
    await lost.start({ ...FAKE_CLOCK_WORKER, concurrency: 1, leaseMs: 60_000, heartbeatIntervalMs: 60_000 });
    await within(slowStarted.promise, 'slow handler started');

    const completed = nextEvent(live, 'job:completed', forJob(job.id));
    await live.start(FAKE_CLOCK_WORKER);
    clock.advance(60_001);
    await completed;

    const stale = nextEvent(lost, 'job:stale', forJob(job.id));
    const lostCompleted: unknown[] = [];
    lost.events.on('job:completed', (event) => lostCompleted.push(event));
    slowFinish.resolve();
    assert.equal((await stale).action, 'completed');
    assert.deepEqual(lostCompleted, [], 'the rejected write is not reported as a completion');

    const stored = await mustGet(live, job.id);
    assert.equal(stored.status, 'completed');
    assert.deepEqual(stored.result, { by: 'live worker' });
    assert.equal(stored.attempt, 2);
    assertLeaseExpiredRecord(stored.errors);
  });
}
