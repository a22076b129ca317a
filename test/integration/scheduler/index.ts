import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { defineTask, Jobyard, type JobyardEvents } from '../../../src/core/index.js';
import { ScheduleNotFoundError, UnknownTaskError, ValidationError } from '../../../src/errors/index.js';
import { type ScheduleDefinition, Scheduler, type SchedulerOptions } from '../../../src/scheduler/index.js';
import type { Store } from '../../../src/store/index.js';
import { type Clock, systemClock } from '../../../src/types/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** MakeStore builds one fresh, migrated store and the function that disposes of it. */
export type MakeStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const syncTask = defineTask('sync.daily', { handler: async (payload: { full: boolean }) => payload.full });

const DAILY_SYNC: ScheduleDefinition = {
  task: syncTask,
  payload: { full: true },
  name: 'Daily sync',
  trigger: { kind: 'cron', expression: '0 2 * * *' },
  misfireGraceMs: HOUR,
  coalesce: true,
};

const EVERY_MINUTE: ScheduleDefinition = {
  task: syncTask,
  payload: { full: false },
  trigger: { kind: 'cron', expression: '* * * * *' },
  maxInstances: 100_000,
};

type ScheduleEventName = 'schedule:fired' | 'schedule:missed' | 'schedule:skipped';
type ScheduleEvent = { [Name in ScheduleEventName]: { name: Name } & JobyardEvents[Name] }[ScheduleEventName];

/** recordScheduleEvents keeps, in order, every schedule event the client emits. */
function recordScheduleEvents(client: Jobyard): ScheduleEvent[] {
  const events: ScheduleEvent[] = [];
  client.events.on('schedule:fired', (event) => events.push({ name: 'schedule:fired', ...event }));
  client.events.on('schedule:missed', (event) => events.push({ name: 'schedule:missed', ...event }));
  client.events.on('schedule:skipped', (event) => events.push({ name: 'schedule:skipped', ...event }));
  return events;
}

/**
 * exerciseScheduler runs the scheduler end to end against one kind of store, with a fake
 * clock: simulated days take milliseconds.
 */
export function exerciseScheduler(name: string, makeStore: MakeStore): void {
  describe(`Scheduler on ${name}`, () => {
    let current: Awaited<ReturnType<MakeStore>> | undefined;
    let clock: FakeClock;
    beforeEach(async () => {
      current = await makeStore();
      clock = new FakeClock('2026-01-01T00:00:00.000Z');
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    /** newClient is the client of one scheduler "process", on the shared store and clock. */
    function newClient(clientClock: Clock = clock): Jobyard {
      assert.ok(current);
      return new Jobyard({ store: current.store, clock: clientClock, tasks: [syncTask], logger: pino({ level: 'silent' }) });
    }

    /** newScheduler is one scheduler "process": its own client on the shared store and clock. */
    function newScheduler(options: SchedulerOptions = {}, schedulerClock: Clock = clock): Scheduler {
      return new Scheduler(newClient(schedulerClock), options);
    }

    async function jobCount(): Promise<number> {
      assert.ok(current);
      return (await current.store.queueStats()).reduce((sum, row) => sum + row.count, 0);
    }

    async function assertEveryMinuteOnce(schedulers: Scheduler[]): Promise<void> {
      const [first] = schedulers;
      assert.ok(first);
      // Declared between fire times, so the day holds fire times 00:01 to 24:00.
      clock.set('2026-01-01T00:00:30Z');
      await first.schedule('minutely', EVERY_MINUTE);
      const enqueued: string[] = [];
      // A tick every 30 s: each fire time is seen up to 30 s late, within the default grace.
      for (let step = 0; step < DAY / (30 * 1000); step++) {
        clock.advance(30_000);
        const ticks = await Promise.all(schedulers.map((scheduler) => scheduler.tick()));
        for (const jobs of ticks) enqueued.push(...jobs.map((job) => job.runAt.toISOString()));
      }
      assert.equal(enqueued.length, 1440);
      assert.equal(new Set(enqueued).size, 1440, 'each fire time enqueued once');
      assert.equal(await jobCount(), 1440);
      const history = await first.scheduleHistory('minutely', { limit: 1000 });
      assert.ok(history.every((fire) => fire.outcome === 'enqueued'));
      assert.equal(history[0]?.fireAt.toISOString(), '2026-01-02T00:00:00.000Z');
      const expected = Array.from({ length: 1440 }, (_, n) =>
        new Date(Date.parse('2026-01-01T00:01:00Z') + n * MINUTE).toISOString(),
      );
      assert.deepEqual(enqueued.sort(), expected, 'no fire time missing');
    }

    it('enqueues each fire time of an every-minute cron exactly once over a simulated day', async () => {
      await assertEveryMinuteOnce([newScheduler()]);
    });

    it('enqueues each fire time exactly once with three schedulers ticking together', async () => {
      await assertEveryMinuteOnce([newScheduler(), newScheduler(), newScheduler()]);
    });

    it('runs a fire time missed during a restart once when back within grace', async () => {
      clock.set('2026-01-01T01:59:00Z');
      const before = newScheduler();
      const declared = await before.schedule('daily-sync', DAILY_SYNC);
      assert.equal(declared.nextRunAt?.toISOString(), '2026-01-01T02:00:00.000Z');
      assert.deepEqual(await before.tick(), []);
      // Down over 02:00; the new process declares the same schedule and ticks at 02:30.
      clock.set('2026-01-01T02:30:00Z');
      const after = newScheduler();
      await after.schedule('daily-sync', DAILY_SYNC);
      const jobs = await after.tick();
      assert.equal(jobs.length, 1);
      assert.deepEqual(await after.tick(), []);
      const history = await after.scheduleHistory('daily-sync');
      assert.deepEqual(
        history.map((fire) => [fire.fireAt.toISOString(), fire.outcome, fire.jobId]),
        [['2026-01-01T02:00:00.000Z', 'enqueued', jobs[0]?.id]],
      );
      const schedule = await after.getSchedule('daily-sync');
      assert.equal(schedule?.nextRunAt?.toISOString(), '2026-01-02T02:00:00.000Z');
      assert.equal(schedule?.lastRunAt?.toISOString(), '2026-01-01T02:00:00.000Z');
    });

    it('records a fire time missed beyond grace as missed and does not run it', async () => {
      clock.set('2026-01-01T01:59:00Z');
      await newScheduler().schedule('daily-sync', DAILY_SYNC);
      clock.set('2026-01-01T03:00:01Z');
      const scheduler = newScheduler();
      assert.deepEqual(await scheduler.tick(), []);
      const [fire, ...rest] = await scheduler.scheduleHistory('daily-sync');
      assert.equal(rest.length, 0);
      assert.equal(fire?.outcome, 'missed');
      assert.equal(fire?.reason, 'late by 1:00:01, past the misfire grace of 1:00:00');
      assert.equal(await jobCount(), 0);
      assert.equal((await scheduler.getSchedule('daily-sync'))?.nextRunAt?.toISOString(), '2026-01-02T02:00:00.000Z');
    });

    it('coalesces fire times missed within grace into one run, or runs each without coalesce', async () => {
      const scheduler = newScheduler();
      await scheduler.schedule('coalesced', { ...EVERY_MINUTE, misfireGraceMs: null, coalesce: true });
      await scheduler.schedule('each', { ...EVERY_MINUTE, misfireGraceMs: null, coalesce: false });
      // Fire times 00:00 to 00:10 are due at once.
      clock.advance(10 * MINUTE);
      const jobs = await scheduler.tick();
      assert.equal(jobs.length, 1 + 11);
      const coalesced = await scheduler.scheduleHistory('coalesced');
      assert.deepEqual(
        coalesced.map((fire) => fire.outcome),
        ['enqueued', ...Array(10).fill('skipped')],
      );
      assert.match(coalesced[1]?.reason ?? '', /coalesced into the run of 2026-01-01T00:10:00.000Z/);
      assert.equal((await scheduler.scheduleHistory('each')).filter((fire) => fire.outcome === 'enqueued').length, 11);
    });

    it('skips a fire time while max instances jobs are still live', async () => {
      const scheduler = newScheduler();
      await scheduler.schedule('one-at-a-time', { ...EVERY_MINUTE, maxInstances: 1 });
      clock.advance(MINUTE);
      assert.equal((await scheduler.tick()).length, 1);
      clock.advance(MINUTE);
      assert.deepEqual(await scheduler.tick(), []);
      const [latest] = await scheduler.scheduleHistory('one-at-a-time');
      assert.equal(latest?.outcome, 'skipped');
      assert.match(latest?.reason ?? '', /max instances/);
    });

    it('keeps a runtime pause when the same definition is declared again; applies a changed one', async () => {
      const scheduler = newScheduler();
      await scheduler.schedule('daily-sync', DAILY_SYNC);
      await scheduler.pauseSchedule('daily-sync');
      const again = await newScheduler().schedule('daily-sync', DAILY_SYNC);
      assert.equal(again.paused, true);
      const changed = await newScheduler().schedule('daily-sync', {
        ...DAILY_SYNC,
        trigger: { kind: 'cron', expression: '30 3 * * *', timezone: 'Europe/London' },
      });
      assert.equal(changed.paused, true, 'a changed definition keeps the runtime pause');
      assert.equal(changed.nextRunAt?.toISOString(), '2026-01-01T03:30:00.000Z');
      clock.set('2026-01-01T04:00:00Z');
      assert.deepEqual(await scheduler.tick(), [], 'a paused schedule does not fire');
      const resumed = await scheduler.resumeSchedule('daily-sync');
      assert.equal(resumed.paused, false);
      assert.equal(resumed.nextRunAt?.toISOString(), '2026-01-02T03:30:00.000Z', 'resume does not make up paused fire times');
    });

    it('starts a schedule declared paused, and updates, runs now and removes at run time', async () => {
      const scheduler = newScheduler();
      const hourly = await scheduler.schedule('hourly-trends', {
        task: 'sync.daily',
        payload: { full: false },
        trigger: { kind: 'every', everyMs: HOUR },
        paused: true,
      });
      assert.equal(hourly.paused, true);
      assert.equal(hourly.nextRunAt?.toISOString(), '2026-01-01T00:00:00.000Z');
      const updated = await scheduler.updateSchedule('hourly-trends', {
        trigger: { kind: 'every', everyMs: 2 * HOUR },
        maxInstances: 5,
      });
      assert.deepEqual(updated.trigger, { kind: 'every', everyMs: 2 * HOUR });
      assert.equal(updated.maxInstances, 5);
      assert.equal(updated.definitionHash, hourly.definitionHash, 'a runtime update is not a code definition');
      const run = await scheduler.runScheduleNow('hourly-trends');
      assert.equal(run.fire?.outcome, 'enqueued');
      assert.equal(run.job?.task, 'sync.daily');
      assert.deepEqual(run.job?.payload, { full: false });
      assert.deepEqual(
        (await scheduler.listSchedules()).map((schedule) => schedule.id),
        ['hourly-trends'],
      );
      assert.equal(await scheduler.removeSchedule('hourly-trends'), true);
      assert.equal(await scheduler.getSchedule('hourly-trends'), null);
      await assert.rejects(scheduler.pauseSchedule('hourly-trends'), ScheduleNotFoundError);
      await assert.rejects(scheduler.runScheduleNow('hourly-trends'), ScheduleNotFoundError);
    });

    it('records a run now at the instant of a due fire time beside that fire time, in either order', async () => {
      const scheduler = newScheduler();
      clock.set('2026-01-01T00:00:30Z');
      await scheduler.schedule('run-first', { ...EVERY_MINUTE, maxInstances: 2 });
      await scheduler.schedule('tick-first', { ...EVERY_MINUTE, maxInstances: 1 });
      clock.set('2026-01-01T00:01:00Z');
      const manual = await scheduler.runScheduleNow('run-first');
      assert.equal(manual.fire?.manual, true);
      assert.equal((await scheduler.tick()).length, 2, 'the due fire time of both schedules runs');
      const late = await scheduler.runScheduleNow('tick-first');
      assert.equal(late.job, null);
      const summary = async (id: string) =>
        (await scheduler.scheduleHistory(id)).map((fire) => [fire.fireAt.toISOString(), fire.manual, fire.outcome, fire.reason]);
      assert.deepEqual(await summary('run-first'), [
        ['2026-01-01T00:01:00.000Z', false, 'enqueued', null],
        ['2026-01-01T00:01:00.000Z', true, 'enqueued', null],
      ]);
      assert.deepEqual(
        await summary('tick-first'),
        [
          ['2026-01-01T00:01:00.000Z', false, 'enqueued', null],
          ['2026-01-01T00:01:00.000Z', true, 'skipped', 'max instances reached (1 live)'],
        ],
        'the manual run is recorded even when max instances turns it down',
      );
      assert.equal(await jobCount(), 3);
    });

    it('emits an event for each fire its own process recorded, and none for fires another process recorded', async () => {
      const clients = [newClient(), newClient()];
      const events = clients.map(recordScheduleEvents);
      const [first, second] = clients.map((client) => new Scheduler(client));
      assert.ok(first && second);
      clock.set('2026-01-01T00:00:30Z');
      await first.schedule('minutely', { ...EVERY_MINUTE, misfireGraceMs: 90_000 });
      // 00:01 is past grace, 00:02 within grace but coalesced into 00:03, which runs.
      clock.set('2026-01-01T00:03:00Z');
      const [job, ...more] = (await Promise.all([first.tick(), second.tick()])).flat();
      assert.ok(job && more.length === 0);
      const [winner, loser] = events[0]?.length ? events : [...events].reverse();
      assert.deepEqual(loser, [], 'the process that lost the fire emits nothing');
      assert.deepEqual(winner, [
        {
          name: 'schedule:missed',
          scheduleId: 'minutely',
          fireAt: new Date('2026-01-01T00:01:00Z'),
          reason: 'late by 0:02:00, past the misfire grace of 0:01:30',
        },
        {
          name: 'schedule:skipped',
          scheduleId: 'minutely',
          fireAt: new Date('2026-01-01T00:02:00Z'),
          manual: false,
          reason: 'coalesced into the run of 2026-01-01T00:03:00.000Z',
          jobId: null,
        },
        { name: 'schedule:fired', scheduleId: 'minutely', fireAt: new Date('2026-01-01T00:03:00Z'), manual: false, job },
      ]);
    });

    it('emits fired for a manual run and skipped, naming the live job, for a fire whose dedup key it holds', async () => {
      const client = newClient();
      const events = recordScheduleEvents(client);
      const scheduler = new Scheduler(client);
      clock.set('2026-01-01T00:00:30Z');
      await scheduler.schedule('keyed', { ...EVERY_MINUTE, job: { dedupKey: 'sync' } });
      const { job } = await scheduler.runScheduleNow('keyed');
      assert.ok(job);
      clock.set('2026-01-01T00:01:00Z');
      assert.deepEqual(await scheduler.tick(), []);
      const reason = `dedup key "sync" held by live job ${job.id}`;
      assert.deepEqual(events, [
        { name: 'schedule:fired', scheduleId: 'keyed', fireAt: new Date('2026-01-01T00:00:30Z'), manual: true, job },
        {
          name: 'schedule:skipped',
          scheduleId: 'keyed',
          fireAt: new Date('2026-01-01T00:01:00Z'),
          manual: false,
          reason,
          jobId: job.id,
        },
      ]);
      const history = await scheduler.scheduleHistory('keyed');
      assert.deepEqual(
        history.map((fire) => [fire.manual, fire.outcome, fire.jobId, fire.reason]),
        [
          [false, 'skipped', job.id, reason],
          [true, 'enqueued', job.id, null],
        ],
      );
      assert.equal(await jobCount(), 1);
    });

    it('runs the fire loop in the background from start() until stop()', async () => {
      const scheduler = newScheduler({ pollIntervalMs: 10 });
      clock.set('2026-01-01T00:00:30Z');
      await scheduler.schedule('minutely', EVERY_MINUTE);
      scheduler.start();
      clock.advance(MINUTE);
      // The loop runs on real timers: wait (bounded) until it has fired.
      for (let wait = 0; wait < 200 && (await jobCount()) === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      await scheduler.stop();
      assert.equal(await jobCount(), 1);
      clock.advance(MINUTE);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await jobCount(), 1, 'a stopped scheduler fires nothing');
    });

    it('enqueues an every-second cron exactly once with three schedulers looping in real time', async () => {
      const schedulers = [1, 2, 3].map(() => newScheduler({ pollIntervalMs: 50 }, systemClock));
      const [first] = schedulers;
      assert.ok(first);
      await first.schedule('every-second', { ...EVERY_MINUTE, trigger: { kind: 'cron', expression: '* * * * * *' } });
      for (const scheduler of schedulers) scheduler.start();
      await new Promise((resolve) => setTimeout(resolve, 3500));
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
      const fires = (await first.scheduleHistory('every-second', { limit: 1000 })).reverse();
      assert.ok(fires.length >= 3, `only ${fires.length} fire times in 3.5 s`);
      assert.ok(fires.every((fire) => fire.outcome === 'enqueued'));
      const seconds = fires.map((fire) => fire.fireAt.getTime() / 1000);
      assert.deepEqual(
        seconds,
        seconds.map((_, n) => (seconds[0] ?? 0) + n),
        'consecutive seconds, none missing or repeated',
      );
      assert.equal(await jobCount(), fires.length);
    });

    it('fires a one-off once', async () => {
      const scheduler = newScheduler();
      await scheduler.schedule('once', {
        task: syncTask,
        payload: { full: true },
        trigger: { kind: 'at', at: '2026-01-01T00:05:00Z' },
      });
      clock.set('2026-01-01T00:05:30Z');
      assert.equal((await scheduler.tick()).length, 1);
      clock.set('2026-01-02T00:00:00Z');
      assert.deepEqual(await scheduler.tick(), []);
      assert.equal((await scheduler.getSchedule('once'))?.nextRunAt, null);
    });

    it('rejects invalid definitions naming the field, and unknown tasks', async () => {
      const scheduler = newScheduler();
      await assert.rejects(
        scheduler.schedule('bad', { ...DAILY_SYNC, trigger: { kind: 'cron', expression: '0 25 * * *' } }),
        (error: unknown) => error instanceof ValidationError && error.issues[0]?.path === 'trigger.expression',
      );
      await assert.rejects(
        scheduler.schedule('bad', {
          ...DAILY_SYNC,
          trigger: { kind: 'cron', expression: '0 2 * * *', timezone: 'Europe/Lndon' },
        }),
        (error: unknown) => error instanceof ValidationError && error.issues[0]?.path === 'trigger.timezone',
      );
      await assert.rejects(scheduler.schedule('bad', { ...DAILY_SYNC, task: 'no.such.task' }), UnknownTaskError);
      await assert.rejects(
        scheduler.schedule('bad', { ...DAILY_SYNC, job: { queue: 'has spaces' } }),
        (error: unknown) => error instanceof ValidationError && error.issues[0]?.path === 'job.queue',
      );
      assert.deepEqual(await scheduler.listSchedules(), []);
    });
  });
}
