import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { JobInsert, JobListFilter, QueueStatsRow, Store } from '../../src/store/index.js';
import type { Job } from '../../src/types/index.js';
import {
  claimOne,
  errorRecord,
  insertJob,
  insertJobs,
  later,
  listAll,
  type MakeStore,
  mustGet,
  newJob,
  settle,
  useFreshStore,
} from './fixtures.js';

/** newestFirst sorts ids as jobList must: UUIDv7 ids sort by creation, newest first. */
function newestFirst(ids: string[]): string[] {
  return [...ids].sort().reverse();
}

/** finishJob claims the only due job of `queue` and settles it as completed or failed at `at`. */
async function finishJob(store: Store, queue: string, at: Date, kind: 'completed' | 'failed'): Promise<Job> {
  const claimed = await claimOne(store, at, { queues: [queue] });
  const outcome = kind === 'completed' ? ({ kind, result: null } as const) : ({ kind, error: errorRecord(1, at) } as const);
  assert.equal(await settle(store, claimed, outcome, at), true);
  return mustGet(store, claimed.job.id);
}

function sortStats(rows: QueueStatsRow[]): QueueStatsRow[] {
  return [...rows].sort((a, b) => `${a.queue}/${a.status}`.localeCompare(`${b.queue}/${b.status}`));
}

export function listSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('lists jobs newest first by id', async () => {
    const now = new Date();
    // runAt and priority run against id order, so only the id can explain the result.
    const inserts = Array.from({ length: 6 }, (_, index) => newJob(now, { runAt: later(now, -index * 1_000), priority: index }));
    await store().jobInsertMany({ jobs: inserts });
    const { jobs, nextCursor } = await store().jobList({ filter: {}, limit: 100 });
    assert.deepEqual(
      jobs.map((job) => job.id),
      newestFirst(inserts.map((insert) => insert.id)),
    );
    assert.equal(nextCursor, null);
  });

  it('walks every page without overlap or gap', async () => {
    const now = new Date();
    const inserts = Array.from({ length: 25 }, (_, index) => newJob(now, { queue: index % 5 === 0 ? 'other' : 'main' }));
    await store().jobInsertMany({ jobs: inserts });
    for (const [filter, pageSize] of [
      [{}, 10],
      [{}, 5],
      [{}, 1],
      [{ queue: 'main' }, 7],
    ] as [JobListFilter, number][]) {
      const expected = newestFirst(
        inserts.filter((insert) => filter.queue === undefined || insert.queue === filter.queue).map((insert) => insert.id),
      );
      const walked = await listAll(store(), filter, pageSize);
      assert.deepEqual(
        walked.map((job) => job.id),
        expected,
        `filter ${JSON.stringify(filter)}, pages of ${pageSize}`,
      );
    }
    const firstPage = await store().jobList({ filter: {}, limit: 10 });
    assert.equal(firstPage.jobs.length, 10);
    assert.notEqual(firstPage.nextCursor, null, 'a full page with more jobs after it has a cursor');
  });

  it('returns an empty last page with a null cursor', async () => {
    assert.deepEqual(await store().jobList({ filter: {}, limit: 10 }), { jobs: [], nextCursor: null });
    const job = await insertJob(store(), new Date());
    assert.deepEqual(await store().jobList({ filter: {}, limit: 10, after: job.id }), { jobs: [], nextCursor: null });
  });

  it('filters by queue, task, status, metadata, tag and dedup key', async () => {
    const now = new Date();
    const jobs: Record<string, JobInsert> = {
      mailA: newJob(now, {
        queue: 'mail',
        task: 'mail.send',
        tags: ['urgent', 'eu'],
        metadata: { tenant: 'acme', tier: 2, vip: true },
      }),
      mailB: newJob(now, {
        queue: 'mail',
        task: 'mail.digest',
        tags: ['eu'],
        metadata: { tenant: 'globex', tier: 2, vip: false },
      }),
      report: newJob(now, {
        queue: 'reports',
        task: 'report.build',
        tags: ['urgent'],
        metadata: { tenant: 'acme', tier: '2' },
        dedupKey: 'report:acme',
      }),
      later: newJob(now, {
        queue: 'mail',
        task: 'mail.send',
        status: 'scheduled',
        runAt: later(now, 60_000),
        metadata: { tenant: 'acme', vip: 'true' },
      }),
    };
    await store().jobInsertMany({ jobs: Object.values(jobs) });
    const names = new Map(Object.entries(jobs).map(([name, insert]) => [insert.id, name]));
    const cases: [JobListFilter, string[]][] = [
      [{}, ['mailA', 'mailB', 'report', 'later']],
      [{ queue: 'mail' }, ['mailA', 'mailB', 'later']],
      [{ task: 'mail.send' }, ['mailA', 'later']],
      [{ status: ['scheduled'] }, ['later']],
      [{ status: ['available', 'scheduled'] }, ['mailA', 'mailB', 'report', 'later']],
      [{ status: ['completed'] }, []],
      [{ metadata: { tenant: 'acme' } }, ['mailA', 'report', 'later']],
      [{ metadata: { tenant: 'acme', tier: 2 } }, ['mailA']],
      [{ metadata: { tier: '2' } }, ['report']],
      [{ metadata: { vip: true } }, ['mailA']],
      [{ metadata: { vip: false } }, ['mailB']],
      [{ metadata: { vip: 'true' } }, ['later']],
      [{ metadata: { missing: 'x' } }, []],
      [{ tag: 'urgent' }, ['mailA', 'report']],
      [{ tag: 'eu', metadata: { tenant: 'globex' } }, ['mailB']],
      [{ tag: 'urg' }, []],
      [{ dedupKey: 'report:acme' }, ['report']],
      [{ queue: 'mail', task: 'mail.send', status: ['available'] }, ['mailA']],
    ];
    for (const [filter, expected] of cases) {
      const found = (await listAll(store(), filter)).map((job) => names.get(job.id));
      assert.deepEqual(found.sort(), [...expected].sort(), `filter ${JSON.stringify(filter)}`);
    }
  });

  it('counts jobs per queue and status, omitting empty statuses', async () => {
    const now = new Date();
    await insertJobs(store(), [
      newJob(now, { queue: 'mail' }),
      newJob(now, { queue: 'mail' }),
      newJob(now, { queue: 'mail', status: 'scheduled', runAt: later(now, 60_000) }),
      newJob(now, { queue: 'reports' }),
      newJob(now, { queue: 'reports' }),
      newJob(now, { queue: 'reports' }),
    ]);
    await claimOne(store(), now, { queues: ['reports'] });
    await finishJob(store(), 'reports', now, 'completed');
    assert.deepEqual(
      sortStats(await store().queueStats()),
      sortStats([
        { queue: 'mail', status: 'available', count: 2 },
        { queue: 'mail', status: 'scheduled', count: 1 },
        { queue: 'reports', status: 'running', count: 1 },
        { queue: 'reports', status: 'completed', count: 1 },
        { queue: 'reports', status: 'available', count: 1 },
      ]),
    );
  });

  it('counts nothing in an empty store', async () => {
    assert.deepEqual(await store().queueStats(), []);
  });

  it('prunes only the given final statuses finished before the cutoff', async () => {
    const now = new Date();
    const old = later(now, -60_000);
    const queues = ['old-completed', 'new-completed', 'old-failed', 'old-cancelled', 'waiting', 'running'];
    await insertJobs(
      store(),
      queues.map((queue) => newJob(old, { queue })),
    );
    const oldCompleted = await finishJob(store(), 'old-completed', old, 'completed');
    const newCompleted = await finishJob(store(), 'new-completed', now, 'completed');
    const oldFailed = await finishJob(store(), 'old-failed', old, 'failed');
    const [oldCancelled] = await listAll(store(), { queue: 'old-cancelled' });
    assert.ok(oldCancelled);
    assert.equal((await store().jobCancel({ id: oldCancelled.id, now: old }))?.outcome, 'cancelled');
    const running = await claimOne(store(), old, { queues: ['running'] });
    const [waiting] = await listAll(store(), { queue: 'waiting' });
    assert.ok(waiting);

    const cutoff = later(now, -30_000);
    assert.equal(await store().jobPrune({ olderThan: cutoff, statuses: ['completed', 'failed'] }), 2);
    assert.equal(await store().jobGet({ id: oldCompleted.id }), null);
    assert.equal(await store().jobGet({ id: oldFailed.id }), null);
    for (const kept of [newCompleted.id, oldCancelled.id, running.job.id, waiting.id]) {
      assert.ok(await store().jobGet({ id: kept }), `job ${kept} is kept`);
    }
    assert.equal(await store().jobPrune({ olderThan: cutoff, statuses: ['completed', 'failed'] }), 0, 'nothing left to prune');
    assert.equal(await store().jobPrune({ olderThan: later(now, 1), statuses: ['cancelled'] }), 1);
    assert.equal(await store().jobGet({ id: oldCancelled.id }), null);
    assert.deepEqual(
      (await listAll(store(), {})).map((job) => job.id).sort(),
      [newCompleted.id, running.job.id, waiting.id].sort(),
    );
  });
}
