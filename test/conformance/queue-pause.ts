import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoreNotification } from '../../src/store/index.js';
import { waitForEvent } from '../helpers/event-waiter.js';
import { claim, insertJob, later, type MakeStore, mustGet, newJob, useFreshStore } from './fixtures.js';

export function queuePauseSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('claims nothing from a paused queue and keeps its jobs; other queues are claimed as before', async () => {
    const now = new Date();
    const paused = await insertJob(store(), now, { queue: 'mail' });
    const other = await insertJob(store(), now, { queue: 'reports' });
    const pause = await store().queuePause({ queue: 'mail', now });
    assert.deepEqual(pause, { queue: 'mail', pausedAt: now });

    const claimed = await claim(store(), now, { queues: ['mail', 'reports'] });
    assert.deepEqual(
      claimed.map(({ job }) => job.id),
      [other.id],
      'only the job of the queue that is not paused',
    );
    assert.deepEqual(await claim(store(), later(now, 1000), { queues: ['mail'] }), []);
    assert.equal((await mustGet(store(), paused.id)).status, 'available', 'the paused queue keeps its job, waiting');
  });

  it('accepts new jobs into a paused queue without starting them, and claims them once resumed', async () => {
    const now = new Date();
    await store().queuePause({ queue: 'mail', now });
    const job = await insertJob(store(), now, { queue: 'mail' });
    assert.deepEqual(await claim(store(), now, { queues: ['mail'] }), []);
    assert.equal(await store().queueResume({ queue: 'mail' }), true);
    const claimed = await claim(store(), now, { queues: ['mail'] });
    assert.deepEqual(
      claimed.map(({ job: started }) => started.id),
      [job.id],
    );
  });

  it('inserts a leased job (local hand-off) into a paused queue as a plain available job, without a token', async () => {
    const now = new Date();
    await store().queuePause({ queue: 'mail', now });
    const insert = { ...newJob(now, { queue: 'mail' }), lease: { owner: 'worker-1', expiresAt: later(now, 30_000) } };
    const unpaused = { ...newJob(now, { queue: 'reports' }), lease: { owner: 'worker-1', expiresAt: later(now, 30_000) } };
    const [result, other] = await store().jobInsertMany({ jobs: [insert, unpaused] });
    assert.ok(result?.created);
    assert.equal(result.leaseToken, undefined, 'no lease in a paused queue');
    assert.equal(result.job.status, 'available');
    assert.equal(result.job.attempt, 0);
    assert.equal(result.job.leaseOwner, null);
    const stored = await mustGet(store(), insert.id);
    assert.deepEqual(
      { status: stored.status, attempt: stored.attempt, leaseOwner: stored.leaseOwner, startedAt: stored.startedAt },
      { status: 'available', attempt: 0, leaseOwner: null, startedAt: null },
    );
    assert.equal(typeof other?.leaseToken, 'string', 'a queue that is not paused still takes the hand-off');
    assert.equal(other?.job.status, 'running');
  });

  it('keeps the first pause time when paused again, and lists pauses by queue', async () => {
    const now = new Date();
    await store().queuePause({ queue: 'reports', now });
    await store().queuePause({ queue: 'mail', now });
    assert.deepEqual(await store().queuePause({ queue: 'mail', now: later(now, 5000) }), { queue: 'mail', pausedAt: now });
    assert.deepEqual(await store().queuePauses(), [
      { queue: 'mail', pausedAt: now },
      { queue: 'reports', pausedAt: now },
    ]);
    assert.equal(await store().queueResume({ queue: 'mail' }), true);
    assert.equal(await store().queueResume({ queue: 'mail' }), false, 'resuming a queue that is not paused changes nothing');
    assert.deepEqual(await store().queuePauses(), [{ queue: 'reports', pausedAt: now }]);
  });

  it('announces jobs_available for a resumed queue', async () => {
    const now = new Date();
    await store().queuePause({ queue: 'mail', now });
    const subscribe = (listener: (notification: StoreNotification) => void) => store().subscribe(listener);
    const arrived = waitForEvent(
      subscribe,
      (notification) => notification.type === 'jobs_available' && notification.queue === 'mail',
      'jobs_available for mail after resume',
    );
    assert.equal(await store().queueResume({ queue: 'mail' }), true);
    await arrived;
  });
}
