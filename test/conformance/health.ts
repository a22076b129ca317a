import assert from 'node:assert/strict';
import { it } from 'node:test';
import { claim, errorRecord, insertJobs, later, type MakeStore, newJob, settle, useFreshStore } from './fixtures.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');
const HOUR = 3_600_000;

export function healthSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('reads the applied schema version, equal to the expected one after migrate', async () => {
    const { version } = await store().migrate();
    assert.deepEqual(await store().schemaVersion(), { applied: version, expected: version, pending: [], unknown: [] });
  });

  it('lists running jobs started before the threshold as stuck, oldest first, capped, with the full count', async () => {
    // Three jobs started 3 h, 2 h and 1 h before T0 (one per claim), and one started at T0.
    const [oldest, older, old, fresh] = await insertJobs(
      store(),
      [0, 1, 2, 3].map((index) => newJob(later(T0, -4 * HOUR), { queue: `q${index}`, task: `task.${index}` })),
    );
    for (const [index, job] of [oldest, older, old, fresh].entries()) {
      const startedAt = later(T0, -(3 - index) * HOUR);
      const claimed = await claim(store(), startedAt, {
        queues: [job?.queue as string],
        leaseMs: 10 * HOUR,
        workerId: `w${index}`,
      });
      assert.equal(claimed.length, 1);
    }
    // A waiting job and a finished one that once started long ago are never stuck.
    const [waiting, finished] = await insertJobs(store(), [
      newJob(later(T0, -5 * HOUR), { queue: 'idle' }),
      newJob(later(T0, -5 * HOUR), { queue: 'done' }),
    ]);
    assert.ok(waiting && finished);
    const [done] = await claim(store(), later(T0, -5 * HOUR), { queues: ['done'] });
    assert.ok(done);
    assert.equal(await settle(store(), done, { kind: 'completed', result: null }, later(T0, -5 * HOUR)), true);

    const health = await store().jobHealth({ stuckBefore: later(T0, -30 * 60_000), stuckLimit: 2, finishedSince: T0 });
    assert.equal(health.stuckCount, 3);
    assert.deepEqual(health.stuck, [
      { id: oldest?.id, queue: 'q0', task: 'task.0', attempt: 1, startedAt: later(T0, -3 * HOUR), leaseOwner: 'w0' },
      { id: older?.id, queue: 'q1', task: 'task.1', attempt: 1, startedAt: later(T0, -2 * HOUR), leaseOwner: 'w1' },
    ]);
    const none = await store().jobHealth({ stuckBefore: later(T0, -4 * HOUR), stuckLimit: 10, finishedSince: T0 });
    assert.deepEqual(none.stuck, []);
    assert.equal(none.stuckCount, 0);
  });

  it('counts jobs per final status finished inside the window only', async () => {
    const outcomes = [
      ['completed', -2 * HOUR],
      ['completed', -30 * 60_000],
      ['completed', -1],
      ['failed', -10 * 60_000],
      ['failed', -2 * HOUR],
      ['retry', -5 * 60_000],
    ] as const;
    const jobs = await insertJobs(
      store(),
      outcomes.map((_, index) => newJob(later(T0, -3 * HOUR), { queue: `q${index}`, maxAttempts: 2 })),
    );
    for (const [index, [kind, offset]] of outcomes.entries()) {
      const at = later(T0, offset);
      const [claimed] = await claim(store(), at, { queues: [jobs[index]?.queue as string] });
      assert.ok(claimed);
      const outcome =
        kind === 'completed'
          ? ({ kind, result: null } as const)
          : kind === 'failed'
            ? ({ kind, error: errorRecord(1, at) } as const)
            : ({ kind, error: errorRecord(1, at), runAt: later(T0, HOUR) } as const);
      assert.equal(await settle(store(), claimed, outcome, at), true);
    }
    const [cancelled] = await insertJobs(store(), [newJob(T0, { queue: 'c' })]);
    assert.ok(cancelled);
    assert.equal((await store().jobCancel({ id: cancelled.id, now: later(T0, -60_000) }))?.outcome, 'cancelled');

    const health = await store().jobHealth({ stuckBefore: T0, stuckLimit: 10, finishedSince: later(T0, -HOUR) });
    assert.deepEqual(health.finished, { completed: 2, failed: 1, cancelled: 1 });
    const empty = await store().jobHealth({ stuckBefore: T0, stuckLimit: 10, finishedSince: later(T0, HOUR) });
    assert.deepEqual(empty.finished, { completed: 0, failed: 0, cancelled: 0 });
  });
}
