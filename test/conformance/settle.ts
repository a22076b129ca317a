import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { JsonValue } from '../../src/types/index.js';
import { WAITING_STATUSES } from '../../src/types/index.js';
import {
  claim,
  claimOne,
  errorRecord,
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

export function settleSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('completes a job with its result and finishedAt', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    const result = { ok: true, list: [1, 'two', null], nested: { deep: 1.5 } };
    const finishAt = later(now, 750);
    assert.equal(await settle(store(), claimed, { kind: 'completed', result }, finishAt), true);
    const stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'completed');
    assert.deepEqual(stored.result, result);
    assert.deepEqual(stored.finishedAt, finishAt);
    assert.equal(stored.attempt, 1);
    assert.deepEqual(stored.errors, []);
  });

  it('round-trips results of every JSON shape', async () => {
    const now = new Date();
    const results: (JsonValue | null)[] = [null, 'done', 0, false, [1, { a: [] }], {}];
    await insertJobs(
      store(),
      results.map(() => newJob(now)),
    );
    const claimed = await claim(store(), now);
    assert.equal(claimed.length, results.length);
    const outcomes = await store().jobSettleMany({
      settles: claimed.map((entry, index) => ({
        id: entry.job.id,
        leaseToken: entry.leaseToken,
        outcome: { kind: 'completed', result: results[index] ?? null },
      })),
      now,
    });
    assert.ok(outcomes.every((outcome) => outcome.applied));
    for (const [index, entry] of claimed.entries()) {
      assert.deepEqual((await mustGet(store(), entry.job.id)).result, results[index], `result ${JSON.stringify(results[index])}`);
    }
  });

  it('sets progress to 1 when the job completes', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    assert.equal(
      await store().jobProgress({ id: claimed.job.id, leaseToken: claimed.leaseToken, progress: 0.5, message: 'half way' }),
      true,
    );
    assert.equal(await settle(store(), claimed, { kind: 'completed', result: 'ok' }, now), true);
    assert.equal((await mustGet(store(), claimed.job.id)).progress, 1);
  });

  it('puts a job to retry: error appended, status retryable, runAt set', async () => {
    const now = new Date();
    const job = await insertJob(store(), now, { maxAttempts: 5 });
    const first = await claimOne(store(), now);
    const firstError = { ...errorRecord(1, now, 'first failure'), stack: 'Error: first failure\n    at handler' };
    const retryAt = later(now, 10_000);
    assert.equal(await settle(store(), first, { kind: 'retry', error: firstError, runAt: retryAt }, now), true);
    let stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'retryable');
    assert.deepEqual(stored.runAt, retryAt);
    assert.deepEqual(stored.errors, [firstError]);
    assert.equal(stored.attempt, 1);
    assert.equal(stored.finishedAt, null);

    assert.deepEqual(await claim(store(), later(retryAt, -1)), [], 'not claimable before its runAt');
    const second = await claimOne(store(), retryAt);
    assert.equal(second.job.attempt, 2);
    const secondError = errorRecord(2, retryAt, 'second failure');
    assert.equal(
      await settle(store(), second, { kind: 'retry', error: secondError, runAt: later(retryAt, 1_000) }, retryAt),
      true,
    );
    stored = await mustGet(store(), job.id);
    assert.deepEqual(stored.errors, [firstError, secondError], 'errors accumulate in attempt order');
  });

  it('fails a job for good', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    const error = errorRecord(1, now, 'fatal');
    const failAt = later(now, 5);
    assert.equal(await settle(store(), claimed, { kind: 'failed', error }, failAt), true);
    const stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'failed');
    assert.deepEqual(stored.errors, [error]);
    assert.deepEqual(stored.finishedAt, failAt);
    assert.deepEqual(await claim(store(), later(now, 60_000)), [], 'a failed job is never claimed again');
  });

  it('cancels a running job, with or without an error', async () => {
    const now = new Date();
    const [withError, withoutError] = await insertJobs(store(), [newJob(now), newJob(later(now, 1))]);
    assert.ok(withError && withoutError);
    const claimed = await claim(store(), later(now, 1));
    const byId = new Map(claimed.map((entry) => [entry.job.id, entry]));
    const error = errorRecord(1, now, 'cancelled by user');
    const cancelAt = later(now, 100);
    const results = await store().jobSettleMany({
      settles: [
        { id: withError.id, leaseToken: byId.get(withError.id)?.leaseToken ?? '', outcome: { kind: 'cancelled', error } },
        {
          id: withoutError.id,
          leaseToken: byId.get(withoutError.id)?.leaseToken ?? '',
          outcome: { kind: 'cancelled', error: null },
        },
      ],
      now: cancelAt,
    });
    assert.ok(results.every((result) => result.applied));
    const storedWithError = await mustGet(store(), withError.id);
    const storedWithoutError = await mustGet(store(), withoutError.id);
    assert.equal(storedWithError.status, 'cancelled');
    assert.deepEqual(storedWithError.errors, [error]);
    assert.deepEqual(storedWithError.finishedAt, cancelAt);
    assert.equal(storedWithoutError.status, 'cancelled');
    assert.deepEqual(storedWithoutError.errors, []);
    assert.deepEqual(storedWithoutError.finishedAt, cancelAt);
  });

  it('releases a job without spending its attempt', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const first = await claimOne(store(), now);
    assert.equal(first.job.attempt, 1);
    const runAt = later(now, 3_000);
    assert.equal(await settle(store(), first, { kind: 'released', runAt }, now), true);
    const stored = await mustGet(store(), job.id);
    assert.equal(stored.attempt, 0, 'the attempt is given back');
    assert.ok(WAITING_STATUSES.includes(stored.status), `released job waits, got ${stored.status}`);
    assert.deepEqual(stored.runAt, runAt);
    assert.deepEqual(stored.errors, []);
    assert.equal(stored.finishedAt, null);
    assert.deepEqual(await claim(store(), later(runAt, -1)), []);
    const again = await claimOne(store(), runAt);
    assert.equal(again.job.id, job.id);
    assert.equal(again.job.attempt, 1, 'the next claim runs the same attempt number');
  });

  it('rejects an outcome with a wrong token and leaves the job unchanged', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    const before = jobFields(await mustGet(store(), claimed.job.id));
    for (const leaseToken of [uuidv7(), 'not-a-token', '']) {
      const results = await store().jobSettleMany({
        settles: [{ id: claimed.job.id, leaseToken, outcome: { kind: 'completed', result: 'stolen' } }],
        now,
      });
      assert.deepEqual(results, [{ id: claimed.job.id, applied: false }], `token ${JSON.stringify(leaseToken)}`);
    }
    assert.deepEqual(jobFields(await mustGet(store(), claimed.job.id)), before);
  });

  it('rejects an outcome for a job that is no longer running', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    assert.equal(await settle(store(), claimed, { kind: 'completed', result: 1 }, now), true);
    const before = jobFields(await mustGet(store(), claimed.job.id));
    assert.equal(await settle(store(), claimed, { kind: 'failed', error: errorRecord(1, now) }, later(now, 1)), false);
    assert.equal(await settle(store(), claimed, { kind: 'completed', result: 2 }, later(now, 1)), false);
    assert.deepEqual(jobFields(await mustGet(store(), claimed.job.id)), before);
  });

  it('rejects an outcome for an unknown job', async () => {
    const id = uuidv7();
    const results = await store().jobSettleMany({
      settles: [{ id, leaseToken: uuidv7(), outcome: { kind: 'completed', result: null } }],
      now: new Date(),
    });
    assert.deepEqual(results, [{ id, applied: false }]);
  });

  it('fences a worker whose lease was rescued and re-claimed', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const stale = await claimOne(store(), now, { leaseMs: 1_000, workerId: 'slow-worker' });
    const rescueAt = later(now, 5_000);
    assert.deepEqual(
      (await store().jobRescueExpired({ now: rescueAt, limit: 10 })).map((rescued) => rescued.id),
      [job.id],
    );
    const fresh = await claimOne(store(), rescueAt, { workerId: 'fresh-worker' });
    assert.equal(fresh.job.id, job.id);
    assert.notEqual(fresh.leaseToken, stale.leaseToken);

    assert.equal(await settle(store(), stale, { kind: 'completed', result: 'stale' }, later(rescueAt, 1)), false);
    let stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'running');
    assert.equal(stored.leaseOwner, 'fresh-worker');
    assert.equal(stored.result, null);

    assert.equal(await settle(store(), fresh, { kind: 'completed', result: 'fresh' }, later(rescueAt, 2)), true);
    stored = await mustGet(store(), job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.result, 'fresh');
  });

  it('applies each outcome of a batch on its own', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 4 }, () => newJob(now)),
    );
    const [a, b, c, d] = await claim(store(), now);
    assert.ok(a && b && c && d);
    const results = await store().jobSettleMany({
      settles: [
        { id: a.job.id, leaseToken: a.leaseToken, outcome: { kind: 'completed', result: 'a' } },
        { id: b.job.id, leaseToken: uuidv7(), outcome: { kind: 'completed', result: 'b' } },
        { id: c.job.id, leaseToken: c.leaseToken, outcome: { kind: 'failed', error: errorRecord(1, now) } },
        { id: d.job.id, leaseToken: a.leaseToken, outcome: { kind: 'completed', result: 'd' } },
      ],
      now,
    });
    const applied = new Map(results.map((result) => [result.id, result.applied]));
    assert.equal(results.length, 4);
    assert.deepEqual(
      [a, b, c, d].map((entry) => applied.get(entry.job.id)),
      [true, false, true, false],
    );
    assert.equal((await mustGet(store(), a.job.id)).status, 'completed');
    assert.equal((await mustGet(store(), b.job.id)).status, 'running');
    assert.equal((await mustGet(store(), c.job.id)).status, 'failed');
    assert.equal((await mustGet(store(), d.job.id)).status, 'running');
  });
}
