import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Store } from '../../src/store/index.js';
import type { Job, JsonValue } from '../../src/types/index.js';
import {
  claimOne,
  errorRecord,
  expectedNewJob,
  insertJob,
  jobFields,
  later,
  listAll,
  type MakeStore,
  mustGet,
  newJob,
  scheduledJob,
  settle,
  useFreshStore,
} from './fixtures.js';

/** Each way a live job with dedup key `key` can be brought into a given status. */
const LIVE_STATES: Record<string, (store: Store, now: Date, key: string) => Promise<Job>> = {
  available: (store, now, key) => insertJob(store, now, { dedupKey: key }),
  scheduled: (store, now, key) => insertJob(store, now, { dedupKey: key, status: 'scheduled', runAt: later(now, 60_000) }),
  running: async (store, now, key) => {
    await insertJob(store, now, { dedupKey: key });
    return (await claimOne(store, now)).job;
  },
  retryable: async (store, now, key) => {
    await insertJob(store, now, { dedupKey: key });
    const claimed = await claimOne(store, now);
    assert.equal(
      await settle(store, claimed, { kind: 'retry', error: errorRecord(1, now), runAt: later(now, 60_000) }, now),
      true,
    );
    return mustGet(store, claimed.job.id);
  },
};

/** Each way a job with dedup key `key` reaches a final status. */
const FINAL_STATES: Record<string, (store: Store, now: Date, key: string) => Promise<Job>> = {
  completed: async (store, now, key) => {
    await insertJob(store, now, { dedupKey: key });
    const claimed = await claimOne(store, now);
    assert.equal(await settle(store, claimed, { kind: 'completed', result: null }, now), true);
    return mustGet(store, claimed.job.id);
  },
  failed: async (store, now, key) => {
    await insertJob(store, now, { dedupKey: key });
    const claimed = await claimOne(store, now);
    assert.equal(await settle(store, claimed, { kind: 'failed', error: errorRecord(1, now) }, now), true);
    return mustGet(store, claimed.job.id);
  },
  cancelled: async (store, now, key) => {
    const job = await insertJob(store, now, { dedupKey: key });
    const cancelled = await store.jobCancel({ id: job.id, now });
    assert.equal(cancelled?.outcome, 'cancelled');
    return mustGet(store, job.id);
  },
};

export function insertSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('round-trips every field of a job, dates to the millisecond', async () => {
    const now = new Date();
    const insert = scheduledJob(now, 1_234, {
      queue: 'mail',
      task: 'mail.send',
      payload: {
        to: 'a@example.com',
        nested: { list: [1, 2.5, 'three', null, true, { deep: false }] },
        text: 'héllo — 世界 🚀 "quoted" \\ back',
      },
      priority: 7,
      maxAttempts: 5,
      createdAt: later(now, -17),
      dedupKey: 'mail:a@example.com',
      concurrencyKey: 'smtp',
      concurrencyLimit: 3,
      tags: ['urgent', 'with space', 'ü'],
      metadata: { tenant: 'acme', count: 3, vip: true, nested: { ids: [1, 2] } },
      timeoutMs: 30_001,
    });
    const [result] = await store().jobInsertMany({ jobs: [insert] });
    assert.ok(result);
    assert.equal(result.created, true);
    const expected = expectedNewJob(insert);
    assert.deepEqual(jobFields(result.job), expected);
    assert.deepEqual(jobFields(await mustGet(store(), insert.id)), expected);
    const [listed] = await listAll(store(), {});
    assert.ok(listed);
    assert.deepEqual(jobFields(listed), expected);
  });

  it('round-trips payloads of every JSON shape', async () => {
    const now = new Date();
    const payloads: JsonValue[] = [{}, [], [1, 'two', null, { three: 3 }], 'text', '', 42, -1.5, 0, true, false, null];
    const inserts = payloads.map((payload) => newJob(now, { payload }));
    await store().jobInsertMany({ jobs: inserts });
    for (const [index, payload] of payloads.entries()) {
      const id = inserts[index]?.id;
      assert.ok(id);
      assert.deepEqual((await mustGet(store(), id)).payload, payload, `payload ${JSON.stringify(payload)}`);
    }
  });

  it('keeps the order of the jobs in its results', async () => {
    const now = new Date();
    const inserts = [5, -3, 0, 10, 1].map((priority, index) =>
      newJob(now, { priority, task: `task-${index}`, queue: index % 2 ? 'odd' : 'even' }),
    );
    const results = await store().jobInsertMany({ jobs: inserts });
    assert.deepEqual(
      results.map((result) => result.job.id),
      inserts.map((insert) => insert.id),
    );
    assert.ok(results.every((result) => result.created));
  });

  it('stores the given status: scheduled or available', async () => {
    const now = new Date();
    const available = await insertJob(store(), now);
    const scheduled = await insertJob(store(), now, { status: 'scheduled', runAt: later(now, 60_000) });
    assert.equal(available.status, 'available');
    assert.equal(scheduled.status, 'scheduled');
    assert.equal((await mustGet(store(), available.id)).status, 'available');
    assert.equal((await mustGet(store(), scheduled.id)).status, 'scheduled');
  });

  it('accepts an empty batch', async () => {
    assert.deepEqual(await store().jobInsertMany({ jobs: [] }), []);
  });

  for (const [state, bringInto] of Object.entries(LIVE_STATES)) {
    it(`returns the live ${state} job with created: false for a duplicate dedup key`, async () => {
      const now = new Date();
      const live = await bringInto(store(), now, 'dedup-1');
      assert.equal(live.status, state);
      const duplicate = newJob(now, { dedupKey: 'dedup-1', payload: { other: true } });
      const [result] = await store().jobInsertMany({ jobs: [duplicate] });
      assert.ok(result);
      assert.equal(result.created, false);
      assert.equal(result.job.id, live.id);
      assert.deepEqual(result.job.payload, live.payload);
      assert.equal(await store().jobGet({ id: duplicate.id }), null, 'the duplicate must not be stored');
      assert.equal((await listAll(store(), { dedupKey: 'dedup-1' })).length, 1);
    });
  }

  it('dedups within one batch and still inserts the other jobs', async () => {
    const now = new Date();
    const first = newJob(now, { dedupKey: 'same' });
    const second = newJob(now, { dedupKey: 'same' });
    const other = newJob(now, { dedupKey: 'different' });
    const plain = newJob(now);
    const results = await store().jobInsertMany({ jobs: [first, second, other, plain] });
    assert.deepEqual(
      results.map((result) => [result.job.id, result.created]),
      [
        [first.id, true],
        [first.id, false],
        [other.id, true],
        [plain.id, true],
      ],
    );
    assert.equal(await store().jobGet({ id: second.id }), null);
  });

  it('does not dedup jobs without a dedup key', async () => {
    const now = new Date();
    const results = await store().jobInsertMany({ jobs: [newJob(now), newJob(now)] });
    assert.ok(results.every((result) => result.created));
    assert.equal((await listAll(store(), {})).length, 2);
  });

  for (const [state, bringInto] of Object.entries(FINAL_STATES)) {
    it(`allows a new job once the one with the same dedup key is ${state}`, async () => {
      const now = new Date();
      const old = await bringInto(store(), now, 'dedup-2');
      assert.equal(old.status, state);
      const replacement = newJob(later(now, 1), { dedupKey: 'dedup-2' });
      const [result] = await store().jobInsertMany({ jobs: [replacement] });
      assert.ok(result);
      assert.equal(result.created, true);
      assert.equal(result.job.id, replacement.id);
      // The replacement is live now, so it is the one a further duplicate finds.
      const [again] = await store().jobInsertMany({ jobs: [newJob(now, { dedupKey: 'dedup-2' })] });
      assert.equal(again?.created, false);
      assert.equal(again?.job.id, replacement.id);
      assert.equal((await mustGet(store(), old.id)).status, state, 'the final job is kept as it was');
    });
  }

  it('keeps exactly one live job when 50 concurrent inserts share a dedup key', async () => {
    const now = new Date();
    const batches = Array.from({ length: 50 }, (_, index) => [
      newJob(now, { task: `plain-${index}` }),
      newJob(now, { dedupKey: 'contended' }),
    ]);
    const results = await Promise.all(batches.map((jobs) => store().jobInsertMany({ jobs })));
    const keyed = results.map((batch) => batch[1]);
    const created = keyed.filter((result) => result?.created);
    assert.equal(created.length, 1, 'exactly one caller creates the job');
    const winnerId = created[0]?.job.id;
    assert.ok(
      keyed.every((result) => result?.job.id === winnerId),
      'every caller gets the live job id',
    );
    for (const [index, batch] of results.entries()) {
      assert.equal(batch[0]?.created, true, `the unkeyed job of batch ${index} is inserted`);
      assert.equal(batch[0]?.job.id, batches[index]?.[0]?.id);
    }
    assert.deepEqual(
      (await listAll(store(), { dedupKey: 'contended' })).map((job) => job.id),
      [winnerId],
    );
    assert.equal((await listAll(store(), {})).length, 51);
  });
}
