import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { InvalidStateError, ValidationError } from '../../src/errors/index.js';
import { type JobInsert, PARENTS_PENDING_RUN_AT, type StoreNotification } from '../../src/store/index.js';
import type { ParentFailurePolicy } from '../../src/types/index.js';
import {
  claim,
  claimOne,
  insertJob,
  insertJobs,
  later,
  type MakeStore,
  mustGet,
  newJob,
  settle,
  useFreshStore,
} from './fixtures.js';

/** childJob builds a job that waits for `parents`, as the client enqueues one. */
function childJob(now: Date, parents: string[], onParentFailure?: ParentFailurePolicy, overrides: Partial<JobInsert> = {}) {
  return newJob(now, {
    status: 'scheduled',
    runAt: PARENTS_PENDING_RUN_AT,
    dependsOn: parents,
    ...(onParentFailure ? { onParentFailure } : {}),
    ...overrides,
  });
}

export function dependenciesSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  /** finish claims a job and settles it completed or failed for good at `at` (other claimed jobs go back). */
  async function finish(id: string, at: Date, kind: 'completed' | 'failed'): Promise<void> {
    const all = await claim(store(), at, { limit: 100 });
    const claimed = all.find((candidate) => candidate.job.id === id);
    for (const other of all) if (other !== claimed) await settle(store(), other, { kind: 'released', runAt: at }, at);
    assert.ok(claimed, `job ${id} is claimable at ${at.toISOString()}`);
    const outcome =
      kind === 'completed'
        ? ({ kind: 'completed', result: { from: id } } as const)
        : ({ kind: 'failed', error: { attempt: 1, at: at.toISOString(), message: 'boom' } } as const);
    assert.equal(await settle(store(), claimed, outcome, at), true);
  }

  it('a child waits, unclaimable, until its parent completes, then is due at the completion time', async () => {
    const now = new Date();
    const parent = await insertJob(store(), now);
    const [child] = await insertJobs(store(), [childJob(now, [parent.id])]);
    assert.ok(child);
    assert.deepEqual([child.status, child.runAt, child.dependsOn], ['scheduled', PARENTS_PENDING_RUN_AT, [parent.id]]);
    const first = await claim(store(), later(now, 1000), { limit: 10 });
    assert.deepEqual(
      first.map((claimed) => claimed.job.id),
      [parent.id],
      'the child is not claimable before its parent completes',
    );
    const done = later(now, 2000);
    assert.equal(await settle(store(), first[0] as (typeof first)[0], { kind: 'completed', result: 7 }, done), true);
    const released = await mustGet(store(), child.id);
    assert.deepEqual([released.status, released.runAt], ['scheduled', done]);
    const next = await claimOne(store(), later(now, 3000));
    assert.equal(next.job.id, child.id);
    assert.deepEqual(
      (await store().jobParents({ id: child.id })).map((job) => [job.id, job.result]),
      [[parent.id, 7]],
    );
  });

  it('a child of several parents waits for the last of them, and lists them in its order', async () => {
    const now = new Date();
    const [a, b, c] = await insertJobs(store(), [newJob(now), newJob(now), newJob(now)]);
    assert.ok(a && b && c);
    const [child] = await insertJobs(store(), [childJob(now, [c.id, a.id, b.id])]);
    assert.ok(child);
    await finish(a.id, later(now, 10), 'completed');
    await finish(c.id, later(now, 20), 'completed');
    assert.equal((await mustGet(store(), child.id)).runAt.getTime(), PARENTS_PENDING_RUN_AT.getTime());
    await finish(b.id, later(now, 30), 'completed');
    assert.deepEqual((await mustGet(store(), child.id)).runAt, later(now, 30));
    assert.deepEqual(
      (await store().jobParents({ id: child.id })).map((job) => job.id),
      [c.id, a.id, b.id],
    );
  });

  it('a parent that fails for good cancels its children and theirs, with the reason recorded', async () => {
    const now = new Date();
    const parent = await insertJob(store(), now);
    const [child, grandchild] = await insertJobs(store(), [childJob(now, [parent.id])]).then(async ([first]) => {
      assert.ok(first);
      const [second] = await insertJobs(store(), [childJob(now, [first.id])]);
      return [first, second];
    });
    assert.ok(child && grandchild);
    const failedAt = later(now, 500);
    await finish(parent.id, failedAt, 'failed');
    for (const [id, cause] of [
      [child.id, parent.id],
      [grandchild.id, child.id],
    ] as const) {
      const cancelled = await mustGet(store(), id);
      assert.equal(cancelled.status, 'cancelled');
      assert.deepEqual(cancelled.finishedAt, failedAt);
      assert.equal(cancelled.errors.length, 1);
      assert.equal(cancelled.errors[0]?.message, `parent job ${cause} ${id === child.id ? 'failed' : 'cancelled'}`);
      assert.equal(cancelled.errors[0]?.name, 'JOBYARD_PARENT_FAILED');
      assert.equal(cancelled.errors[0]?.at, failedAt.toISOString());
    }
  });

  it("a child with onParentFailure 'run' runs when its parent is cancelled, or fails for good", async () => {
    const now = new Date();
    const [cancelledParent, failingParent] = await insertJobs(store(), [newJob(now), newJob(now)]);
    assert.ok(cancelledParent && failingParent);
    const [child] = await insertJobs(store(), [childJob(now, [cancelledParent.id, failingParent.id], 'run')]);
    assert.ok(child);
    assert.equal((await store().jobCancel({ id: cancelledParent.id, now: later(now, 5) }))?.outcome, 'cancelled');
    await finish(failingParent.id, later(now, 9), 'failed');
    const released = await mustGet(store(), child.id);
    assert.deepEqual([released.status, released.runAt], ['scheduled', later(now, 9)]);
  });

  it('a parent failed by the rescuer (lease expired on its last attempt) cancels its children', async () => {
    const now = new Date();
    const parent = await insertJob(store(), now, { maxAttempts: 1 });
    const [child] = await insertJobs(store(), [childJob(now, [parent.id])]);
    assert.ok(child);
    await claimOne(store(), now, { leaseMs: 100 });
    const rescued = await store().jobRescueExpired({ now: later(now, 1000), limit: 10 });
    assert.deepEqual(
      rescued.map((job) => [job.id, job.status]),
      [[parent.id, 'failed']],
    );
    assert.equal((await mustGet(store(), child.id)).status, 'cancelled');
  });

  it('a whole flow inserts in one call, parents listed after their children too', async () => {
    const now = new Date();
    const root = newJob(now);
    const left = childJob(now, [root.id]);
    const join = childJob(now, [left.id, root.id]);
    const results = await store().jobInsertMany({ jobs: [join, left, root] });
    assert.deepEqual(
      results.map((result) => [result.job.id, result.created, result.job.dependsOn]),
      [
        [join.id, true, [left.id, root.id]],
        [left.id, true, [root.id]],
        [root.id, true, []],
      ],
    );
    await finish(root.id, later(now, 1), 'completed');
    await finish(left.id, later(now, 2), 'completed');
    assert.equal((await claimOne(store(), later(now, 3))).job.id, join.id);
  });

  it('a parent that already completed leaves the child due at once, and wakes workers', async () => {
    const now = new Date();
    const parent = await insertJob(store(), now);
    await finish(parent.id, later(now, 1), 'completed');
    const notifications: StoreNotification[] = [];
    const unsubscribe = store().subscribe((notification) => notifications.push(notification));
    try {
      const created = later(now, 2);
      const [child] = await insertJobs(store(), [childJob(created, [parent.id])]);
      assert.ok(child);
      assert.deepEqual([child.status, child.runAt], ['scheduled', created]);
      await waitFor(() => notifications.some((n) => n.type === 'jobs_available' && n.queue === child.queue));
      assert.equal((await claimOne(store(), later(now, 3))).job.id, child.id);
    } finally {
      unsubscribe();
    }
  });

  it('a released child wakes workers of its queue', async () => {
    const now = new Date();
    const parent = await insertJob(store(), now);
    const [child] = await insertJobs(store(), [childJob(now, [parent.id], undefined, { queue: 'children' })]);
    assert.ok(child);
    const notifications: StoreNotification[] = [];
    const unsubscribe = store().subscribe((notification) => notifications.push(notification));
    try {
      await finish(parent.id, later(now, 1), 'completed');
      await waitFor(() => notifications.some((n) => n.type === 'jobs_available' && n.queue === 'children'));
    } finally {
      unsubscribe();
    }
  });

  it('refuses unknown parents and parents that already failed: nothing of the call is inserted', async () => {
    const now = new Date();
    const bystander = newJob(now);
    const unknown = uuidv7();
    await assert.rejects(
      store().jobInsertMany({ jobs: [bystander, childJob(now, [unknown])] }),
      (error) => error instanceof ValidationError && error.message.includes(unknown),
    );
    await assert.rejects(store().jobInsertMany({ jobs: [childJob(now, ['not-a-uuid'])] }), ValidationError);
    assert.equal(await store().jobGet({ id: bystander.id }), null);

    const failed = await insertJob(store(), now, { maxAttempts: 1 });
    await finish(failed.id, later(now, 1), 'failed');
    const doomed = childJob(now, [failed.id]);
    await assert.rejects(store().jobInsertMany({ jobs: [doomed] }), InvalidStateError);
    assert.equal(await store().jobGet({ id: doomed.id }), null);
    const [runsAnyway] = await insertJobs(store(), [childJob(now, [failed.id], 'run')]);
    assert.ok(runsAnyway && runsAnyway.runAt.getTime() < PARENTS_PENDING_RUN_AT.getTime(), 'due at once');
  });

  it('refuses a job with parents that is not inserted waiting for them', async () => {
    const now = new Date();
    const parent = await insertJob(store(), now);
    for (const bad of [
      newJob(now, { dependsOn: [parent.id] }),
      childJob(now, [parent.id], undefined, { runAt: now }),
      ((job) => ({ ...job, dependsOn: [job.id] }))(childJob(now, [])),
    ]) {
      await assert.rejects(store().jobInsertMany({ jobs: [bad] }), ValidationError);
    }
  });

  it('pruning a finished parent drops its links; the child lists only parents still stored', async () => {
    const now = new Date();
    const [a, b] = await insertJobs(store(), [newJob(now), newJob(now)]);
    assert.ok(a && b);
    const [child] = await insertJobs(store(), [childJob(now, [a.id, b.id])]);
    assert.ok(child);
    await finish(a.id, later(now, 1), 'completed');
    await finish(b.id, later(now, 2), 'completed');
    await finish(child.id, later(now, 3), 'completed');
    assert.equal(await store().jobPrune({ olderThan: later(now, 3), statuses: ['completed'] }), 2);
    assert.deepEqual(await store().jobParents({ id: child.id }), []);
    assert.deepEqual((await mustGet(store(), child.id)).dependsOn, [a.id, b.id]);
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
