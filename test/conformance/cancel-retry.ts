import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { Store } from '../../src/store/index.js';
import type { Job } from '../../src/types/index.js';
import {
  claim,
  claimOne,
  errorRecord,
  insertJob,
  jobFields,
  later,
  type MakeStore,
  mustGet,
  settle,
  useFreshStore,
} from './fixtures.js';

/** Each way a job reaches a waiting status, as seen at `now`. */
const WAITING: Record<string, (store: Store, now: Date) => Promise<Job>> = {
  available: (store, now) => insertJob(store, now),
  scheduled: (store, now) => insertJob(store, now, { status: 'scheduled', runAt: later(now, 60_000) }),
  retryable: async (store, now) => {
    await insertJob(store, now);
    const claimed = await claimOne(store, now);
    assert.equal(
      await settle(store, claimed, { kind: 'retry', error: errorRecord(1, now), runAt: later(now, 60_000) }, now),
      true,
    );
    return mustGet(store, claimed.job.id);
  },
};

/** Ids that name no job; the malformed ones must not make a store throw. */
const MISSING_IDS = [uuidv7(), 'not-a-uuid', ''];

async function failedJob(store: Store, now: Date, maxAttempts: number): Promise<Job> {
  await insertJob(store, now, { maxAttempts });
  const claimed = await claimOne(store, now);
  assert.equal(await settle(store, claimed, { kind: 'failed', error: errorRecord(1, now, 'gave up') }, now), true);
  return mustGet(store, claimed.job.id);
}

export function cancelRetrySuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  for (const [state, bringInto] of Object.entries(WAITING)) {
    it(`cancels a ${state} job at once`, async () => {
      const now = new Date();
      const job = await bringInto(store(), now);
      assert.equal(job.status, state);
      const cancelAt = later(now, 10);
      const result = await store().jobCancel({ id: job.id, now: cancelAt });
      assert.ok(result);
      assert.equal(result.outcome, 'cancelled');
      assert.equal(result.job.id, job.id);
      assert.equal(result.job.status, 'cancelled');
      const stored = await mustGet(store(), job.id);
      assert.equal(stored.status, 'cancelled');
      assert.deepEqual(stored.finishedAt, cancelAt);
      assert.deepEqual(await claim(store(), later(now, 120_000)), [], 'a cancelled job is never claimed');
    });
  }

  it('asks a running job to cancel without stopping it', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    const result = await store().jobCancel({ id: claimed.job.id, now: later(now, 10) });
    assert.ok(result);
    assert.equal(result.outcome, 'requested');
    assert.equal(result.job.status, 'running');
    assert.equal(result.job.cancelRequested, true);
    const stored = await mustGet(store(), claimed.job.id);
    assert.equal(stored.status, 'running');
    assert.equal(stored.cancelRequested, true);
    assert.equal(stored.finishedAt, null);
    const [renewal] = await store().jobLeaseRenew({
      leases: [{ id: claimed.job.id, leaseToken: claimed.leaseToken }],
      leaseMs: 1_000,
      now: later(now, 20),
    });
    assert.deepEqual(renewal, { id: claimed.job.id, held: true, cancelRequested: true });
    // The worker then aborts and reports the cancel under its lease.
    assert.equal(await settle(store(), claimed, { kind: 'cancelled', error: null }, later(now, 30)), true);
    assert.equal((await mustGet(store(), claimed.job.id)).status, 'cancelled');
  });

  it('leaves final jobs as they are', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    assert.equal(await settle(store(), claimed, { kind: 'completed', result: 'done' }, now), true);
    const completed = await mustGet(store(), claimed.job.id);
    const failed = await failedJob(store(), now, 1);
    const cancelled = await insertJob(store(), now);
    assert.equal((await store().jobCancel({ id: cancelled.id, now }))?.outcome, 'cancelled');
    for (const job of [completed, failed, await mustGet(store(), cancelled.id)]) {
      const before = jobFields(job);
      const result = await store().jobCancel({ id: job.id, now: later(now, 1_000) });
      assert.ok(result);
      assert.equal(result.outcome, 'final', `cancel of a ${job.status} job`);
      assert.deepEqual(jobFields(result.job), before);
      assert.deepEqual(jobFields(await mustGet(store(), job.id)), before);
    }
  });

  for (const id of MISSING_IDS) {
    it(`returns null from jobGet, jobCancel, jobRetry and jobDelete for the missing id ${JSON.stringify(id)}`, async () => {
      const now = new Date();
      await insertJob(store(), now);
      assert.equal(await store().jobGet({ id }), null);
      assert.equal(await store().jobCancel({ id, now }), null);
      assert.equal(await store().jobRetry({ id, now }), null);
      assert.equal(await store().jobDelete({ id }), null);
    });
  }

  it('deletes completed, failed and cancelled jobs, returning each as it was', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    assert.equal(await settle(store(), claimed, { kind: 'completed', result: 'done' }, now), true);
    const completed = await mustGet(store(), claimed.job.id);
    const failed = await failedJob(store(), now, 1);
    const cancelled = await insertJob(store(), now);
    await store().jobCancel({ id: cancelled.id, now });
    const kept = await insertJob(store(), now);
    for (const job of [completed, failed, await mustGet(store(), cancelled.id)]) {
      const result = await store().jobDelete({ id: job.id });
      assert.ok(result);
      assert.equal(result.deleted, true, `delete of a ${job.status} job`);
      assert.deepEqual(jobFields(result.job), jobFields(job));
      assert.equal(await store().jobGet({ id: job.id }), null);
      assert.equal(await store().jobDelete({ id: job.id }), null, 'a deleted job is gone');
    }
    assert.equal((await mustGet(store(), kept.id)).status, 'available', 'other jobs stay');
  });

  for (const [state, bringInto] of Object.entries({
    ...WAITING,
    running: async (store: Store, now: Date) => {
      await insertJob(store, now);
      return (await claimOne(store, now)).job;
    },
  })) {
    it(`refuses to delete a ${state} job and leaves it as it is`, async () => {
      const now = new Date();
      const job = await bringInto(store(), now);
      const before = jobFields(await mustGet(store(), job.id));
      const result = await store().jobDelete({ id: job.id });
      assert.ok(result);
      assert.equal(result.deleted, false);
      assert.deepEqual(jobFields(result.job), before);
      assert.deepEqual(jobFields(await mustGet(store(), job.id)), before);
    });
  }

  it('retries a failed job: available now, errors and attempts kept, one more attempt allowed', async () => {
    const now = new Date();
    const failed = await failedJob(store(), now, 1);
    assert.equal(failed.attempt, 1);
    const retryAt = later(now, 60_000);
    const result = await store().jobRetry({ id: failed.id, now: retryAt });
    assert.ok(result);
    assert.equal(result.applied, true);
    const stored = await mustGet(store(), failed.id);
    for (const job of [result.job, stored]) {
      assert.equal(job.status, 'available');
      assert.deepEqual(job.runAt, retryAt);
      assert.deepEqual(job.errors, failed.errors);
      assert.equal(job.attempt, 1);
      assert.equal(job.maxAttempts, 2, 'all attempts were spent, so one is added');
    }
    const again = await claimOne(store(), retryAt);
    assert.equal(again.job.id, failed.id);
    assert.equal(again.job.attempt, 2);
  });

  it('keeps maxAttempts when a retried job still has attempts left', async () => {
    const now = new Date();
    const failed = await failedJob(store(), now, 5);
    const result = await store().jobRetry({ id: failed.id, now });
    assert.equal(result?.applied, true);
    assert.equal((await mustGet(store(), failed.id)).maxAttempts, 5);
  });

  it('retries a cancelled job', async () => {
    const now = new Date();
    const job = await insertJob(store(), now, { maxAttempts: 3 });
    assert.equal((await store().jobCancel({ id: job.id, now }))?.outcome, 'cancelled');
    const retryAt = later(now, 500);
    const result = await store().jobRetry({ id: job.id, now: retryAt });
    assert.equal(result?.applied, true);
    const stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'available');
    assert.deepEqual(stored.runAt, retryAt);
    assert.equal(stored.maxAttempts, 3);
    assert.equal((await claimOne(store(), retryAt)).job.id, job.id);
  });

  it('does not retry completed, running or waiting jobs', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const done = await claimOne(store(), now);
    assert.equal(await settle(store(), done, { kind: 'completed', result: null }, now), true);
    await insertJob(store(), now);
    const running = await claimOne(store(), now);
    const waiting = await insertJob(store(), now, { status: 'scheduled', runAt: later(now, 60_000) });
    for (const id of [done.job.id, running.job.id, waiting.id]) {
      const before = jobFields(await mustGet(store(), id));
      const result = await store().jobRetry({ id, now: later(now, 1_000) });
      assert.ok(result);
      assert.equal(result.applied, false, `retry of a ${before.status} job`);
      assert.deepEqual(jobFields(result.job), before);
      assert.deepEqual(jobFields(await mustGet(store(), id)), before);
    }
  });
}
