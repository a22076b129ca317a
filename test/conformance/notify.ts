import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StoreNotification } from '../../src/store/index.js';
import { recordEvents, waitForEvent } from '../helpers/event-waiter.js';
import { claimOne, errorRecord, insertJob, type MakeStore, settle, useFreshStore } from './fixtures.js';

function jobsAvailableIn(queue: string): (notification: StoreNotification) => boolean {
  return (notification) => notification.type === 'jobs_available' && notification.queue === queue;
}

export function notifySuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);
  const subscribe = (listener: (notification: StoreNotification) => void) => store().subscribe(listener);

  it('announces jobs_available for the queue of inserted available jobs before the insert resolves', async () => {
    const seen: StoreNotification[] = [];
    const unsubscribe = subscribe((notification) => seen.push(notification));
    await insertJob(store(), new Date(), { queue: 'mail' });
    unsubscribe();
    assert.deepEqual(seen.filter(jobsAvailableIn('mail')).slice(0, 1), [{ type: 'jobs_available', queue: 'mail' }]);
  });

  it('announces jobs_available when a job is retried', async () => {
    const now = new Date();
    // Wait out the insert's own announcement, so only the retry can satisfy the later wait.
    const inserted = waitForEvent(subscribe, jobsAvailableIn('reports'), 'jobs_available for reports after insert');
    await insertJob(store(), now, { queue: 'reports' });
    await inserted;
    const claimed = await claimOne(store(), now, { queues: ['reports'] });
    assert.equal(await settle(store(), claimed, { kind: 'failed', error: errorRecord(1, now) }, now), true);
    const arrived = waitForEvent(subscribe, jobsAvailableIn('reports'), 'jobs_available for reports after retry');
    assert.equal((await store().jobRetry({ id: claimed.job.id, now }))?.applied, true);
    await arrived;
  });

  it('announces a cancel request for a running job', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    const arrived = waitForEvent(subscribe, (notification) => notification.type === 'cancel', 'cancel notification');
    assert.equal((await store().jobCancel({ id: claimed.job.id, now }))?.outcome, 'requested');
    assert.deepEqual(await arrived, { type: 'cancel', jobId: claimed.job.id });
  });

  it('stops delivering to a listener once it unsubscribed', async () => {
    const now = new Date();
    const early = recordEvents(subscribe);
    const first = waitForEvent(subscribe, jobsAvailableIn('first'), 'jobs_available for first');
    await insertJob(store(), now, { queue: 'first' });
    await first;
    assert.ok(early.events.some(jobsAvailableIn('first')), 'the listener received events while subscribed');
    early.stop();
    // A second listener still subscribed shows when the later event has been delivered.
    const second = waitForEvent(subscribe, jobsAvailableIn('second'), 'jobs_available for second');
    await insertJob(store(), now, { queue: 'second' });
    await second;
    assert.equal(early.events.filter(jobsAvailableIn('second')).length, 0);
  });
}
