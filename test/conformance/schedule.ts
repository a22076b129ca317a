import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SCHEDULE_ID_METADATA_KEY, type ScheduleFireInput, type Store } from '../../src/store/index.js';
import type { Schedule } from '../../src/types/index.js';
import { claimOne, insertJob, later, type MakeStore, mustGet, newJob, settle, useFreshStore } from './fixtures.js';

const START = new Date('2026-03-01T00:00:00.000Z');
const MINUTE = 60_000;

/** newSchedule builds an every-minute schedule due at START; overrides win. */
function newSchedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    id: 'nightly-sync',
    name: 'Nightly sync',
    task: 'test.task',
    payload: { full: true },
    trigger: { kind: 'cron', expression: '* * * * *', timezone: 'UTC' },
    paused: false,
    misfireGraceMs: 3_600_000,
    coalesce: true,
    maxInstances: 100,
    jitterMs: 0,
    jobOptions: { queue: 'default', tags: ['sync'] },
    definitionHash: 'hash-1',
    nextRunAt: START,
    lastRunAt: null,
    createdAt: START,
    updatedAt: START,
    ...overrides,
  };
}

async function insertSchedule(store: Store, overrides: Partial<Schedule> = {}): Promise<Schedule> {
  const { schedule, created } = await store.scheduleInsert({ schedule: newSchedule(overrides) });
  assert.equal(created, true);
  return schedule;
}

function enqueueFire(fireAt: Date): ScheduleFireInput {
  return { fireAt, job: newJob(fireAt, { task: 'test.task' }) };
}

/** fireNext fires the schedule's next fire time (compare-and-set from it to a minute later). */
function fireNext(store: Store, schedule: Schedule, fireAt: Date, fires: ScheduleFireInput[] = [enqueueFire(fireAt)]) {
  return store.scheduleFire({
    scheduleId: schedule.id,
    advance: { from: fireAt, to: later(fireAt, MINUTE) },
    fires,
    now: fireAt,
  });
}

/** keyedFire is a fire whose job carries the dedup key 'sync'. */
function keyedFire(fireAt: Date): ScheduleFireInput {
  return { fireAt, job: newJob(fireAt, { task: 'test.task', dedupKey: 'sync' }) };
}

/** runNow records a manual run at `fireAt` (no compare-and-set), as runScheduleNow does. */
function runNow(store: Store, schedule: Schedule, fireAt: Date) {
  return store.scheduleFire({ scheduleId: schedule.id, advance: null, fires: [enqueueFire(fireAt)], now: fireAt });
}

export function scheduleSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('inserts a schedule and reads it back unchanged', async () => {
    const inserted = await insertSchedule(store());
    assert.deepEqual(inserted, newSchedule());
    assert.deepEqual(await store().scheduleGet({ id: 'nightly-sync' }), newSchedule());
    assert.deepEqual(await store().scheduleList(), [newSchedule()]);
    assert.equal(await store().scheduleGet({ id: 'missing' }), null);
  });

  it('keeps the first schedule when another process inserts the same id', async () => {
    await insertSchedule(store());
    const second = await store().scheduleInsert({ schedule: newSchedule({ task: 'other.task' }) });
    assert.equal(second.created, false);
    assert.equal(second.schedule.task, 'test.task');
  });

  it('stores every trigger kind', async () => {
    const triggers: Schedule['trigger'][] = [
      { kind: 'cron', expression: '0 30 2 * * *', timezone: 'America/New_York' },
      { kind: 'every', everyMs: 90_000, startAt: START.toISOString(), endAt: later(START, 3_600_000).toISOString() },
      { kind: 'every', everyMs: 1000 },
      { kind: 'at', at: later(START, 5 * MINUTE).toISOString() },
    ];
    for (const [index, trigger] of triggers.entries()) await insertSchedule(store(), { id: `s${index}`, trigger });
    assert.deepEqual(
      (await store().scheduleList()).map((schedule) => schedule.trigger),
      triggers,
    );
  });

  it('updates only the patched fields and sets updatedAt', async () => {
    await insertSchedule(store());
    const now = later(START, 5_000);
    const updated = await store().scheduleUpdate({
      id: 'nightly-sync',
      patch: { paused: true, misfireGraceMs: null, trigger: { kind: 'at', at: START.toISOString() }, nextRunAt: null },
      now,
    });
    assert.deepEqual(
      updated,
      newSchedule({
        paused: true,
        misfireGraceMs: null,
        trigger: { kind: 'at', at: START.toISOString() },
        nextRunAt: null,
        updatedAt: now,
      }),
    );
    assert.equal(await store().scheduleUpdate({ id: 'missing', patch: { paused: true }, now }), null);
  });

  it('deletes a schedule with its history, leaving its jobs', async () => {
    const schedule = await insertSchedule(store());
    const { jobs } = await fireNext(store(), schedule, START);
    assert.equal(await store().scheduleDelete({ id: schedule.id }), true);
    assert.equal(await store().scheduleDelete({ id: schedule.id }), false);
    assert.equal(await store().scheduleGet({ id: schedule.id }), null);
    assert.deepEqual(await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 }), []);
    assert.ok(jobs[0]);
    await mustGet(store(), jobs[0].id);
  });

  it('lists due schedules that are not paused, earliest first, up to the limit', async () => {
    await insertSchedule(store(), { id: 'late', nextRunAt: later(START, 2 * MINUTE) });
    await insertSchedule(store(), { id: 'early', nextRunAt: later(START, -MINUTE) });
    await insertSchedule(store(), { id: 'now', nextRunAt: START });
    await insertSchedule(store(), { id: 'paused', nextRunAt: START, paused: true });
    await insertSchedule(store(), { id: 'finished', nextRunAt: null });
    const due = async (now: Date, limit = 10) => (await store().scheduleDue({ now, limit })).map((s) => s.id);
    assert.deepEqual(await due(START), ['early', 'now']);
    assert.deepEqual(await due(START, 1), ['early']);
    assert.deepEqual(await due(later(START, 2 * MINUTE)), ['early', 'now', 'late']);
  });

  it('fires a fire time once: enqueues the job, records history, advances nextRunAt', async () => {
    const schedule = await insertSchedule(store());
    const result = await fireNext(store(), schedule, START);
    assert.equal(result.applied, true);
    assert.equal(result.jobs.length, 1);
    const [job] = result.jobs;
    assert.ok(job);
    assert.equal(job.task, 'test.task');
    assert.equal(job.metadata[SCHEDULE_ID_METADATA_KEY], schedule.id, 'the job names its schedule');
    assert.deepEqual(
      result.fires.map(({ fireAt, manual, outcome, jobId, reason }) => ({ fireAt, manual, outcome, jobId, reason })),
      [{ fireAt: START, manual: false, outcome: 'enqueued', jobId: job.id, reason: null }],
    );
    const stored = await store().scheduleGet({ id: schedule.id });
    assert.deepEqual(stored?.nextRunAt, later(START, MINUTE));
    assert.deepEqual(stored?.lastRunAt, START);
    assert.deepEqual(await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 }), result.fires);
  });

  it('lets exactly one of many concurrent fires of the same fire time win', async () => {
    const schedule = await insertSchedule(store());
    const results = await Promise.all(Array.from({ length: 8 }, () => fireNext(store(), schedule, START)));
    assert.equal(results.filter((result) => result.applied).length, 1);
    assert.equal(results.flatMap((result) => result.jobs).length, 1);
    assert.equal((await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 })).length, 1);
    const stats = await store().queueStats();
    assert.deepEqual(stats, [{ queue: 'default', status: 'available', count: 1 }]);
  });

  it('refuses a stale compare-and-set and a vanished schedule', async () => {
    const schedule = await insertSchedule(store());
    assert.equal((await fireNext(store(), schedule, later(START, -MINUTE))).applied, false);
    assert.equal((await fireNext(store(), { ...schedule, id: 'missing' }, START)).applied, false);
    assert.deepEqual(await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 }), []);
  });

  it('records a manual run at most once per instant, leaving nextRunAt', async () => {
    const schedule = await insertSchedule(store());
    const first = await runNow(store(), schedule, START);
    const second = await runNow(store(), schedule, START);
    assert.deepEqual([first.applied, first.jobs.length, first.fires[0]?.manual], [true, 1, true]);
    assert.deepEqual([second.applied, second.jobs.length, second.fires.length], [true, 0, 0]);
    assert.deepEqual((await store().scheduleGet({ id: schedule.id }))?.nextRunAt, START, 'run now leaves nextRunAt');
  });

  for (const order of ['fire time first', 'manual run first']) {
    it(`records a manual run and a fire time of the same instant side by side (${order})`, async () => {
      const schedule = await insertSchedule(store());
      const fire = () => fireNext(store(), schedule, START);
      const manual = () => runNow(store(), schedule, START);
      const results = order === 'fire time first' ? [await fire(), await manual()] : [await manual(), await fire()];
      assert.ok(results.every((result) => result.applied && result.jobs.length === 1));
      const history = await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 });
      assert.deepEqual(
        history.map(({ fireAt, manual, outcome }) => ({ fireAt, manual, outcome })),
        [
          { fireAt: START, manual: false, outcome: 'enqueued' },
          { fireAt: START, manual: true, outcome: 'enqueued' },
        ],
        'both recorded, the fire time of the trigger first',
      );
      assert.deepEqual(
        (await store().queueStats()).map(({ count }) => count),
        [2],
      );
      assert.deepEqual((await store().scheduleGet({ id: schedule.id }))?.nextRunAt, later(START, MINUTE));
    });
  }

  it('records missed and skipped fires with their reasons, latest first in history', async () => {
    const schedule = await insertSchedule(store());
    const fires: ScheduleFireInput[] = [
      { fireAt: START, job: null, outcome: 'missed', reason: 'late by 2h, grace 1h' },
      { fireAt: later(START, MINUTE), job: null, outcome: 'skipped', reason: 'coalesced' },
      enqueueFire(later(START, 2 * MINUTE)),
    ];
    const result = await fireNext(store(), schedule, START, fires);
    const history = await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 });
    assert.deepEqual(
      history.map(({ outcome, reason }) => [outcome, reason]),
      [
        ['enqueued', null],
        ['skipped', 'coalesced'],
        ['missed', 'late by 2h, grace 1h'],
      ],
    );
    assert.deepEqual(history, [...result.fires].reverse());
    assert.equal((await store().scheduleHistory({ scheduleId: schedule.id, limit: 1 })).length, 1);
    assert.deepEqual((await store().scheduleGet({ id: schedule.id }))?.lastRunAt, later(START, 2 * MINUTE));
  });

  it('skips a fire that would exceed max instances, counting live jobs only', async () => {
    const schedule = await insertSchedule(store(), { maxInstances: 2 });
    const fireTimes = [0, 1, 2].map((n) => later(START, n * MINUTE));
    const first = await fireNext(store(), schedule, START, fireTimes.map(enqueueFire));
    assert.deepEqual(
      first.fires.map((fire) => fire.outcome),
      ['enqueued', 'enqueued', 'skipped'],
    );
    assert.match(first.fires[2]?.reason ?? '', /max instances/);
    assert.equal(first.jobs.length, 2);
    // One job runs and completes: a slot frees up; the running one still counts.
    const running = await claimOne(store(), later(START, 3 * MINUTE));
    assert.equal(await settle(store(), running, { kind: 'completed', result: null }, later(START, 3 * MINUTE)), true);
    await claimOne(store(), later(START, 3 * MINUTE));
    const next = await fireNext(store(), schedule, later(START, MINUTE), [
      enqueueFire(later(START, 3 * MINUTE)),
      enqueueFire(later(START, 4 * MINUTE)),
    ]);
    assert.deepEqual(
      next.fires.map((fire) => fire.outcome),
      ['enqueued', 'skipped'],
    );
  });

  it('records a fire whose dedup key a live job holds as skipped, naming that job, and enqueues once the key is free', async () => {
    const schedule = await insertSchedule(store());
    const holder = await insertJob(store(), START, { dedupKey: 'sync' });
    const held = await fireNext(store(), schedule, START, [keyedFire(START)]);
    assert.equal(held.applied, true);
    assert.deepEqual(held.jobs, [], 'no job inserted');
    assert.deepEqual(
      held.fires.map(({ outcome, jobId, reason }) => ({ outcome, jobId, reason })),
      [{ outcome: 'skipped', jobId: holder.id, reason: `dedup key "sync" held by live job ${holder.id}` }],
    );
    assert.deepEqual(await store().scheduleHistory({ scheduleId: schedule.id, limit: 10 }), held.fires);
    const stored = await store().scheduleGet({ id: schedule.id });
    assert.deepEqual([stored?.nextRunAt, stored?.lastRunAt], [later(START, MINUTE), null], 'advanced, but no run');
    assert.deepEqual(
      (await store().queueStats()).map(({ count }) => count),
      [1],
    );
    // The holder completes: its key is free again.
    const running = await claimOne(store(), START);
    assert.equal(await settle(store(), running, { kind: 'completed', result: null }, START), true);
    const free = await fireNext(store(), schedule, later(START, MINUTE), [keyedFire(later(START, MINUTE))]);
    assert.equal(free.jobs.length, 1);
    assert.deepEqual(
      free.fires.map(({ outcome, jobId }) => ({ outcome, jobId })),
      [{ outcome: 'enqueued', jobId: free.jobs[0]?.id }],
    );
  });

  it('skips the later of two fires of one call that share a dedup key, and a manual run while it is held', async () => {
    const schedule = await insertSchedule(store(), { coalesce: false });
    const result = await fireNext(store(), schedule, START, [keyedFire(START), keyedFire(later(START, MINUTE))]);
    const [job] = result.jobs;
    assert.ok(job && result.jobs.length === 1);
    assert.deepEqual(
      result.fires.map(({ outcome, jobId }) => ({ outcome, jobId })),
      [
        { outcome: 'enqueued', jobId: job.id },
        { outcome: 'skipped', jobId: job.id },
      ],
    );
    const manual = await store().scheduleFire({
      scheduleId: schedule.id,
      advance: null,
      fires: [keyedFire(later(START, 2 * MINUTE))],
      now: later(START, 2 * MINUTE),
    });
    assert.deepEqual(
      manual.fires.map(({ manual, outcome, jobId, reason }) => ({ manual, outcome, jobId, reason })),
      [{ manual: true, outcome: 'skipped', jobId: job.id, reason: `dedup key "sync" held by live job ${job.id}` }],
    );
    assert.deepEqual((await store().scheduleGet({ id: schedule.id }))?.lastRunAt, START);
    assert.deepEqual(
      (await store().queueStats()).map(({ count }) => count),
      [1],
    );
  });
}
