import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import {
  claim,
  claimOne,
  insertJob,
  insertJobs,
  jobFields,
  later,
  type MakeStore,
  mustGet,
  newJob,
  settle,
  useFreshStore,
} from './fixtures.js';

export function leaseSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('extends a held lease to now + leaseMs', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now, { leaseMs: 1_000 });
    const renewAt = later(now, 800);
    const results = await store().jobLeaseRenew({
      leases: [{ id: claimed.job.id, leaseToken: claimed.leaseToken }],
      leaseMs: 2_000,
      now: renewAt,
    });
    assert.deepEqual(results, [{ id: claimed.job.id, held: true, cancelRequested: false }]);
    assert.deepEqual((await mustGet(store(), claimed.job.id)).leaseExpiresAt, later(renewAt, 2_000));
    // Past the first expiry but within the renewed one: the rescuer must leave it alone.
    assert.deepEqual(await store().jobRescueExpired({ now: later(now, 1_500), limit: 10 }), []);
    assert.equal((await mustGet(store(), claimed.job.id)).status, 'running');
  });

  it('reports a lease as lost for a wrong token, a finished job or an unknown job', async () => {
    const now = new Date();
    await insertJobs(store(), [newJob(now), newJob(now)]);
    const [running, finished] = await claim(store(), now);
    assert.ok(running && finished);
    assert.equal(await settle(store(), finished, { kind: 'completed', result: null }, now), true);
    const unknownId = uuidv7();
    const before = jobFields(await mustGet(store(), running.job.id));
    const results = await store().jobLeaseRenew({
      leases: [
        { id: running.job.id, leaseToken: uuidv7() },
        { id: finished.job.id, leaseToken: finished.leaseToken },
        { id: unknownId, leaseToken: uuidv7() },
      ],
      leaseMs: 60_000,
      now: later(now, 10),
    });
    const held = new Map(results.map((result) => [result.id, result.held]));
    assert.deepEqual(
      [running.job.id, finished.job.id, unknownId].map((id) => held.get(id)),
      [false, false, false],
    );
    assert.deepEqual(jobFields(await mustGet(store(), running.job.id)), before, 'a wrong token does not extend the lease');
  });

  it('reports a lease as lost once the job was rescued', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now, { leaseMs: 1_000 });
    const rescueAt = later(now, 2_000);
    assert.equal((await store().jobRescueExpired({ now: rescueAt, limit: 10 })).length, 1);
    const results = await store().jobLeaseRenew({
      leases: [{ id: claimed.job.id, leaseToken: claimed.leaseToken }],
      leaseMs: 1_000,
      now: rescueAt,
    });
    assert.equal(results[0]?.held, false);
  });

  it('reports a requested cancel on renewal', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    assert.equal((await store().jobCancel({ id: claimed.job.id, now }))?.outcome, 'requested');
    const results = await store().jobLeaseRenew({
      leases: [{ id: claimed.job.id, leaseToken: claimed.leaseToken }],
      leaseMs: 1_000,
      now: later(now, 1),
    });
    assert.deepEqual(results, [{ id: claimed.job.id, held: true, cancelRequested: true }]);
  });

  it('rescues an expired lease to retryable with a "lease expired" error', async () => {
    const now = new Date();
    const job = await insertJob(store(), now, { maxAttempts: 3 });
    await claimOne(store(), now, { leaseMs: 1_000 });
    const rescueAt = later(now, 1_001);
    const rescued = await store().jobRescueExpired({ now: rescueAt, limit: 10 });
    assert.deepEqual(
      rescued.map((entry) => entry.id),
      [job.id],
    );
    for (const stored of [rescued[0], await mustGet(store(), job.id)]) {
      assert.ok(stored);
      assert.equal(stored.status, 'retryable');
      assert.deepEqual(stored.runAt, rescueAt);
      assert.equal(stored.attempt, 1);
      assert.equal(stored.finishedAt, null);
      assert.equal(stored.errors.length, 1);
      const [error] = stored.errors;
      assert.equal(error?.attempt, 1);
      assert.match(error?.message ?? '', /lease expired/i);
      assert.ok(!Number.isNaN(Date.parse(error?.at ?? '')), `error time ${error?.at} is an ISO date`);
    }
    const again = await claimOne(store(), rescueAt);
    assert.equal(again.job.attempt, 2, 'a rescued job runs again right away');
  });

  it('rescues an expired lease to failed when no attempt is left', async () => {
    const now = new Date();
    const job = await insertJob(store(), now, { maxAttempts: 1 });
    await claimOne(store(), now, { leaseMs: 1_000 });
    const rescueAt = later(now, 5_000);
    const [rescued] = await store().jobRescueExpired({ now: rescueAt, limit: 10 });
    assert.equal(rescued?.id, job.id);
    const stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'failed');
    assert.deepEqual(stored.finishedAt, rescueAt);
    assert.equal(stored.errors.length, 1);
    assert.equal(stored.errors[0]?.attempt, 1);
    assert.match(stored.errors[0]?.message ?? '', /lease expired/i);
    assert.deepEqual(await claim(store(), later(rescueAt, 60_000)), []);
  });

  it('leaves live leases and waiting jobs alone', async () => {
    const now = new Date();
    await insertJobs(store(), [newJob(now), newJob(now)]);
    const short = await claimOne(store(), now, { leaseMs: 1_000 });
    const long = await claimOne(store(), now, { leaseMs: 60_000 });
    const waiting = await insertJob(store(), now);
    const rescued = await store().jobRescueExpired({ now: later(now, 2_000), limit: 10 });
    assert.deepEqual(
      rescued.map((job) => job.id),
      [short.job.id],
    );
    assert.equal((await mustGet(store(), long.job.id)).status, 'running');
    assert.equal((await mustGet(store(), waiting.id)).status, 'available');
  });

  it('rescues at most limit jobs per call', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 5 }, () => newJob(now)),
    );
    assert.equal((await claim(store(), now, { leaseMs: 1_000 })).length, 5);
    const rescueAt = later(now, 2_000);
    const first = await store().jobRescueExpired({ now: rescueAt, limit: 2 });
    assert.equal(first.length, 2);
    const second = await store().jobRescueExpired({ now: rescueAt, limit: 10 });
    assert.equal(second.length, 3);
    assert.equal(new Set([...first, ...second].map((job) => job.id)).size, 5);
    assert.deepEqual(await store().jobRescueExpired({ now: rescueAt, limit: 10 }), []);
  });

  it('stores progress under the lease and rejects it without one', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    const { leaseToken } = claimed;
    const { id } = claimed.job;
    assert.equal(await store().jobProgress({ id, leaseToken, progress: 0.25, message: 'a quarter' }), true);
    let stored = await mustGet(store(), id);
    assert.equal(stored.progress, 0.25);
    assert.equal(stored.progressMessage, 'a quarter');
    assert.equal(await store().jobProgress({ id, leaseToken, progress: 0.75, message: null }), true);
    stored = await mustGet(store(), id);
    assert.equal(stored.progress, 0.75);
    assert.equal(stored.progressMessage, null);

    assert.equal(await store().jobProgress({ id, leaseToken: uuidv7(), progress: 0.9, message: 'stolen' }), false);
    assert.equal(await store().jobProgress({ id: uuidv7(), leaseToken, progress: 0.9, message: 'unknown' }), false);
    stored = await mustGet(store(), id);
    assert.equal(stored.progress, 0.75, 'rejected progress changes nothing');
    assert.equal(stored.progressMessage, null);

    assert.equal(await settle(store(), claimed, { kind: 'completed', result: null }, now), true);
    const finished = jobFields(await mustGet(store(), id));
    assert.equal(await store().jobProgress({ id, leaseToken, progress: 0.9, message: 'too late' }), false);
    assert.deepEqual(jobFields(await mustGet(store(), id)), finished);
  });
}
