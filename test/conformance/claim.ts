import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ClaimedJob, Store } from '../../src/store/index.js';
import {
  claim,
  claimOne,
  errorRecord,
  insertJob,
  insertJobs,
  later,
  listAll,
  type MakeStore,
  mustGet,
  newJob,
  QUEUE,
  settle,
  useFreshStore,
} from './fixtures.js';

function ids(claimed: ClaimedJob[]): string[] {
  return claimed.map((entry) => entry.job.id);
}

function assertNoDuplicates(values: string[], what: string): void {
  assert.equal(new Set(values).size, values.length, `${what} contains duplicates`);
}

async function completeAll(store: Store, claimed: ClaimedJob[], now: Date): Promise<void> {
  const results = await store.jobSettleMany({
    settles: claimed.map((entry) => ({
      id: entry.job.id,
      leaseToken: entry.leaseToken,
      outcome: { kind: 'completed', result: null },
    })),
    now,
  });
  assert.ok(results.every((result) => result.applied));
}

export function claimSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('claims nothing from an empty queue', async () => {
    assert.deepEqual(await claim(store(), new Date()), []);
  });

  it('claims a scheduled job only once now reaches its runAt', async () => {
    const now = new Date();
    const job = await insertJob(store(), now, { status: 'scheduled', runAt: later(now, 5_000) });
    assert.deepEqual(await claim(store(), now), []);
    assert.deepEqual(await claim(store(), later(now, 4_999)), []);
    const claimed = await claimOne(store(), later(now, 5_000));
    assert.equal(claimed.job.id, job.id);
  });

  it('claims available jobs whose runAt has passed', async () => {
    const now = new Date();
    const job = await insertJob(store(), later(now, -60_000));
    assert.equal((await claimOne(store(), now)).job.id, job.id);
  });

  it('claims only from the given queues', async () => {
    const now = new Date();
    const jobs = await insertJobs(
      store(),
      ['a', 'b', 'c', 'a', 'b', 'c'].map((queue) => newJob(now, { queue })),
    );
    const claimed = await claim(store(), now, { queues: ['a', 'c'] });
    assert.deepEqual(
      ids(claimed).sort(),
      jobs
        .filter((job) => job.queue !== 'b')
        .map((job) => job.id)
        .sort(),
    );
    assert.deepEqual(await claim(store(), now, { queues: ['nope'] }), []);
  });

  it('claims by priority (high first), then runAt, then id', async () => {
    const now = new Date();
    // Ids follow construction order; insertion runs against it (and against the expected
    // order), so neither insertion order nor any single key can produce the expected order.
    const low = newJob(now, { priority: -10, runAt: later(now, -5_000) });
    const normalLate = newJob(now, { priority: 0, runAt: later(now, -1_000) });
    const normalEarlyFirstId = newJob(now, { priority: 0, runAt: later(now, -3_000) });
    const highLate = newJob(now, { priority: 10, runAt: later(now, -1_000) });
    const normalEarlySecondId = newJob(now, { priority: 0, runAt: later(now, -3_000) });
    const highEarly = newJob(now, { priority: 10, runAt: later(now, -2_000) });
    await insertJobs(store(), [low, normalLate, normalEarlySecondId, normalEarlyFirstId, highLate, highEarly]);
    const order: string[] = [];
    for (let index = 0; index < 6; index++) order.push((await claimOne(store(), now)).job.id);
    assert.deepEqual(order, [highEarly.id, highLate.id, normalEarlyFirstId.id, normalEarlySecondId.id, normalLate.id, low.id]);
  });

  it('claims at most limit jobs', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 5 }, () => newJob(now)),
    );
    assert.equal((await claim(store(), now, { limit: 3 })).length, 3);
    assert.equal((await claim(store(), now, { limit: 3 })).length, 2);
    assert.equal((await claim(store(), now, { limit: 3 })).length, 0);
  });

  it('sets status, attempt, startedAt and the lease on the claimed job', async () => {
    const now = new Date();
    const job = await insertJob(store(), later(now, -1_000));
    const claimed = await claimOne(store(), now, { workerId: 'worker-7', leaseMs: 12_345 });
    const expected = {
      status: 'running',
      attempt: 1,
      startedAt: now,
      leaseOwner: 'worker-7',
      leaseExpiresAt: later(now, 12_345),
      cancelRequested: false,
    };
    const pick = (source: typeof claimed.job) => ({
      status: source.status,
      attempt: source.attempt,
      startedAt: source.startedAt,
      leaseOwner: source.leaseOwner,
      leaseExpiresAt: source.leaseExpiresAt,
      cancelRequested: source.cancelRequested,
    });
    assert.deepEqual(pick(claimed.job), expected);
    assert.deepEqual(pick(await mustGet(store(), job.id)), expected);
    assert.equal(typeof claimed.leaseToken, 'string');
    assert.ok(claimed.leaseToken.length > 0);
  });

  it('increments attempt on every claim', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const first = await claimOne(store(), now);
    assert.equal(first.job.attempt, 1);
    assert.equal(await settle(store(), first, { kind: 'retry', error: errorRecord(1, now), runAt: now }, now), true);
    const second = await claimOne(store(), later(now, 1));
    assert.equal(second.job.attempt, 2);
  });

  it('gives every claim a fresh lease token', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 10 }, () => newJob(now)),
    );
    const claimed = await claim(store(), now);
    assert.equal(claimed.length, 10);
    const first = claimed[0];
    assert.ok(first);
    assert.equal(await settle(store(), first, { kind: 'released', runAt: now }, now), true);
    const again = await claimOne(store(), later(now, 1));
    assert.equal(again.job.id, first.job.id);
    assertNoDuplicates([...claimed.map((entry) => entry.leaseToken), again.leaseToken], 'lease tokens');
  });

  it('clears cancelRequested when a job is claimed again', async () => {
    const now = new Date();
    await insertJob(store(), now);
    const first = await claimOne(store(), now, { leaseMs: 1_000 });
    assert.equal((await store().jobCancel({ id: first.job.id, now }))?.outcome, 'requested');
    const rescueAt = later(now, 2_000);
    assert.equal((await store().jobRescueExpired({ now: rescueAt, limit: 10 })).length, 1);
    const second = await claimOne(store(), rescueAt);
    assert.equal(second.job.id, first.job.id);
    assert.equal(second.job.cancelRequested, false);
    assert.equal((await mustGet(store(), first.job.id)).cancelRequested, false);
  });

  it('never hands the same job to two concurrent claims', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 40 }, (_, index) => newJob(now, { priority: index % 3 })),
    );
    const batches = await Promise.all(
      Array.from({ length: 10 }, (_, index) => claim(store(), now, { limit: 5, workerId: `worker-${index}` })),
    );
    const claimedIds = batches.flatMap(ids);
    for (const batch of batches) assert.ok(batch.length <= 5, 'a claim respects its limit');
    assertNoDuplicates(claimedIds, 'concurrently claimed jobs');
    const running = await listAll(store(), { status: ['running'] });
    assert.deepEqual(running.map((job) => job.id).sort(), [...claimedIds].sort(), 'every claimed job is running, and only those');
    // Whatever a busy claimer skipped is still there for the next claim: nothing was lost.
    const rest = await claim(store(), now);
    assert.equal(claimedIds.length + rest.length, 40);
    assertNoDuplicates([...claimedIds, ...ids(rest)], 'all claimed jobs');
  });

  it('runs one job of a concurrency key at a time with concurrencyLimit 1', async () => {
    const now = new Date();
    const [first, second] = await insertJobs(store(), [
      newJob(now, { concurrencyKey: 'K', concurrencyLimit: 1 }),
      newJob(later(now, 1), { concurrencyKey: 'K', concurrencyLimit: 1, runAt: later(now, 1) }),
    ]);
    assert.ok(first && second);
    const claimed = await claim(store(), later(now, 10));
    assert.deepEqual(ids(claimed), [first.id]);
    assert.deepEqual(await claim(store(), later(now, 20)), [], 'the second waits while the first runs');
    const [running] = claimed;
    assert.ok(running);
    assert.equal(await settle(store(), running, { kind: 'completed', result: null }, later(now, 30)), true);
    assert.deepEqual(ids(await claim(store(), later(now, 40))), [second.id]);
  });

  it('runs up to concurrencyLimit jobs of a key at once', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 5 }, () => newJob(now, { concurrencyKey: 'K', concurrencyLimit: 2 })),
    );
    assert.equal((await claim(store(), now, { limit: 10 })).length, 2, 'one claim call takes no more than the key allows');
    assert.equal((await claim(store(), now, { limit: 10 })).length, 0);
  });

  it('counts running jobs of a key from earlier claims against its limit', async () => {
    const now = new Date();
    await insertJobs(
      store(),
      Array.from({ length: 4 }, () => newJob(now, { concurrencyKey: 'K', concurrencyLimit: 3 })),
    );
    assert.equal((await claim(store(), now, { limit: 2 })).length, 2);
    assert.equal((await claim(store(), now, { limit: 10 })).length, 1);
    assert.equal((await claim(store(), now, { limit: 10 })).length, 0);
  });

  it('does not let blocked keyed jobs hold back unkeyed ones', async () => {
    const now = new Date();
    const keyed = Array.from({ length: 3 }, () => newJob(now, { priority: 10, concurrencyKey: 'K', concurrencyLimit: 1 }));
    const unkeyed = Array.from({ length: 2 }, () => newJob(now, { priority: 0 }));
    await insertJobs(store(), [...keyed, ...unkeyed]);
    const first = await claimOne(store(), now);
    assert.equal(first.job.concurrencyKey, 'K', 'the high-priority keyed job goes first');
    // The remaining keyed jobs sort first but are blocked: the unkeyed ones must still come out.
    const next = await claimOne(store(), now);
    assert.equal(next.job.concurrencyKey, null);
    const rest = await claim(store(), now, { limit: 10 });
    assert.deepEqual(
      rest.map((entry) => entry.job.concurrencyKey),
      [null],
    );
  });

  it('keeps every concurrency limit across rounds of parallel claims', async () => {
    const now = new Date();
    const limits: Record<string, number> = { alpha: 1, beta: 2, gamma: 3 };
    const jobs = Object.entries(limits).flatMap(([key, limit]) =>
      Array.from({ length: 6 }, () => newJob(now, { concurrencyKey: key, concurrencyLimit: limit })),
    );
    await insertJobs(store(), [...jobs, ...Array.from({ length: 4 }, () => newJob(now))]);
    const total = jobs.length + 4;
    let completed = 0;
    for (let round = 0; round < 40 && completed < total; round++) {
      const at = later(now, round);
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, index) => claim(store(), at, { limit: 3, workerId: `worker-${index}` })),
      );
      const claimed = batches.flat();
      assertNoDuplicates(ids(claimed), `round ${round} claims`);
      const running = await listAll(store(), { status: ['running'] });
      for (const [key, limit] of Object.entries(limits)) {
        const count = running.filter((job) => job.concurrencyKey === key).length;
        assert.ok(count <= limit, `round ${round}: ${count} jobs of key ${key} running, limit ${limit}`);
      }
      await completeAll(store(), claimed, at);
      completed += claimed.length;
    }
    assert.equal(completed, total, 'every job ran within 40 rounds');
    assert.equal((await listAll(store(), { status: ['completed'] })).length, total);
    assert.equal((await listAll(store(), { queue: QUEUE })).length, total);
  });
}
