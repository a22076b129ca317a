import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ValidationError } from '../../src/errors/index.js';
import type { JobInsert } from '../../src/store/index.js';
import {
  claim,
  expectedNewJob,
  insertJob,
  jobFields,
  later,
  type MakeStore,
  mustGet,
  newJob,
  settle,
  useFreshStore,
} from './fixtures.js';

/** leased gives a job the lease an idle worker of the enqueuing process would insert it with. */
function leased(insert: JobInsert, now: Date, owner = 'worker-1'): JobInsert {
  return { ...insert, lease: { owner, expiresAt: later(now, 30_000) } };
}

export function leasedInsertSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('inserts a job with a lease running under it: attempt 1, started, token returned', async () => {
    const now = new Date();
    const insert = leased(newJob(now), now);
    const [result] = await store().jobInsertMany({ jobs: [insert] });
    assert.ok(result?.created);
    assert.equal(typeof result.leaseToken, 'string');
    const { lease: _lease, ...fields } = insert;
    const expected = {
      ...expectedNewJob(fields),
      status: 'running',
      attempt: 1,
      startedAt: now,
      leaseOwner: 'worker-1',
      leaseExpiresAt: later(now, 30_000),
    };
    assert.deepEqual(jobFields(result.job), expected, 'the result is the stored job');
    assert.deepEqual(jobFields(await mustGet(store(), insert.id)), expected);

    assert.deepEqual(await claim(store(), now), [], 'a leased job is not claimed again');
    const held = { job: result.job, leaseToken: result.leaseToken as string };
    assert.equal(await settle(store(), held, { kind: 'completed', result: 7 }, now), true, 'its token fences it like a claim');
    assert.equal((await mustGet(store(), insert.id)).status, 'completed');
  });

  it('returns the live job, not leased, when a dedup key is taken', async () => {
    const now = new Date();
    const live = await insertJob(store(), now, { dedupKey: 'report' });
    const [result] = await store().jobInsertMany({ jobs: [leased(newJob(now, { dedupKey: 'report' }), now)] });
    assert.equal(result?.created, false);
    assert.equal(result.leaseToken, undefined);
    assert.equal(result.job.id, live.id);
    assert.equal(result.job.status, 'available');
  });

  it('refuses a lease on a scheduled job or one with a concurrency key, inserting nothing', async () => {
    const now = new Date();
    for (const overrides of [
      { status: 'scheduled', runAt: later(now, 60_000) },
      { concurrencyKey: 'tenant-1' },
    ] satisfies Partial<JobInsert>[]) {
      const plain = newJob(now);
      await assert.rejects(
        store().jobInsertMany({ jobs: [plain, leased(newJob(now, overrides), now)] }),
        (error) => error instanceof ValidationError && error.code === 'JOBYARD_VALIDATION',
      );
      assert.equal(await store().jobGet({ id: plain.id }), null, 'nothing of the batch is inserted');
    }
  });
}
