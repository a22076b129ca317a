import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFieldError, assertProblem, type MakeStore, useService } from './fixtures.js';

export function schedulesSuite(makeStore: MakeStore): void {
  const service = useService(makeStore);

  async function declareSchedules() {
    await service.scheduler().schedule('nightly', {
      task: 'noop',
      name: 'Nightly',
      payload: { full: true },
      trigger: { kind: 'cron', expression: '30 2 * * *', timezone: 'Europe/London' },
    });
    await service.scheduler().schedule('every-minute', {
      task: 'email.send',
      payload: { to: 'ops@example.com' },
      trigger: { kind: 'every', everyMs: 60_000 },
    });
  }

  it('lists schedules by id with next run and trigger description', async () => {
    await declareSchedules();
    const answer = await service.call('GET', '/api/schedules');
    assert.equal(answer.status, 200, answer.raw);
    const [everyMinute, nightly] = answer.body.schedules;
    assert.equal(everyMinute.id, 'every-minute');
    assert.equal(everyMinute.description, 'interval[0:01:00]');
    assert.equal(nightly.id, 'nightly');
    assert.equal(nightly.description, "cron[hour='2', minute='30', timezone='Europe/London']");
    assert.equal(nightly.name, 'Nightly');
    assert.equal(nightly.paused, false);
    assert.ok(Date.parse(nightly.nextRunAt) > Date.now());
    assert.equal('definitionHash' in nightly, false);
  });

  it('gets a schedule; 404 for an unknown id, 400 for a malformed one', async () => {
    await declareSchedules();
    const answer = await service.call('GET', '/api/schedules/nightly');
    assert.equal(answer.status, 200, answer.raw);
    assert.deepEqual(answer.body.trigger, { kind: 'cron', expression: '30 2 * * *', timezone: 'Europe/London' });
    assertProblem(await service.call('GET', '/api/schedules/weekly'), 404, 'JOBYARD_SCHEDULE_NOT_FOUND');
    assertFieldError(assertProblem(await service.call('GET', '/api/schedules/a%20b'), 400, 'JOBYARD_VALIDATION'), 'id');
    // Ids reach 128 characters, longer than Fastify's default parameter limit.
    assertProblem(await service.call('GET', `/api/schedules/${'a'.repeat(128)}`), 404, 'JOBYARD_SCHEDULE_NOT_FOUND');
    assertProblem(await service.call('GET', `/api/schedules/${'a'.repeat(129)}`), 400, 'JOBYARD_VALIDATION');
    assertProblem(await service.call('GET', `/api/schedules/${'a'.repeat(1000)}`), 414, 'JOBYARD_BAD_REQUEST');
  });

  it('pauses and resumes a schedule; 404 for an unknown one', async () => {
    await declareSchedules();
    const paused = await service.call('POST', '/api/schedules/nightly/pause');
    assert.equal(paused.status, 200, paused.raw);
    assert.equal(paused.body.paused, true);
    assert.equal((await service.scheduler().getSchedule('nightly'))?.paused, true);
    const resumed = await service.call('POST', '/api/schedules/nightly/resume');
    assert.equal(resumed.status, 200, resumed.raw);
    assert.equal(resumed.body.paused, false);
    assert.ok(Date.parse(resumed.body.nextRunAt) > Date.now());
    for (const action of ['pause', 'resume', 'run']) {
      assertProblem(await service.call('POST', `/api/schedules/weekly/${action}`), 404, 'JOBYARD_SCHEDULE_NOT_FOUND');
    }
  });

  it("runs a schedule now and shows it in the schedule's history", async () => {
    await declareSchedules();
    const run = await service.call('POST', '/api/schedules/nightly/run');
    assert.equal(run.status, 200, run.raw);
    assert.equal(run.body.fire.manual, true);
    assert.equal(run.body.fire.outcome, 'enqueued');
    assert.equal(run.body.job.task, 'noop');
    assert.deepEqual(run.body.job.payload, { full: true });
    assert.equal((await service.call('GET', `/api/jobs/${run.body.job.id}`)).status, 200);

    // The schedule allows one live job: a second run now is recorded as skipped, without a job.
    // (Manual runs are recorded per millisecond: make sure this one gets a millisecond of its own.)
    await new Promise((resolve) => setTimeout(resolve, 5));
    const skipped = await service.call('POST', '/api/schedules/nightly/run');
    assert.equal(skipped.status, 200, skipped.raw);
    assert.equal(skipped.body.job, null);
    assert.equal(skipped.body.fire.outcome, 'skipped');

    const history = await service.call('GET', '/api/schedules/nightly/history?limit=10');
    assert.equal(history.status, 200, history.raw);
    assert.equal(history.body.fires.length, 2);
    assert.ok(history.body.fires.some((fire: { jobId: string | null }) => fire.jobId === run.body.job.id));
    assertProblem(await service.call('GET', '/api/schedules/weekly/history'), 404, 'JOBYARD_SCHEDULE_NOT_FOUND');
    assertFieldError(assertProblem(await service.call('GET', '/api/schedules/nightly/history?limit=0'), 400), 'limit');
  });

  it('previews the next fire times of a cron trigger in its time zone, across a DST change', async () => {
    const answer = await service.call('POST', '/api/schedules/preview', {
      payload: {
        trigger: { kind: 'cron', expression: '30 12 * * *', timezone: 'America/New_York' },
        count: 3,
        from: '2026-03-07T00:00:00Z',
      },
    });
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.body.description, "cron[hour='12', minute='30', timezone='America/New_York']");
    assert.deepEqual(answer.body.fireTimes, [
      { at: '2026-03-07T17:30:00.000Z', local: '2026-03-07T12:30:00-05:00' },
      { at: '2026-03-08T16:30:00.000Z', local: '2026-03-08T12:30:00-04:00' },
      { at: '2026-03-09T16:30:00.000Z', local: '2026-03-09T12:30:00-04:00' },
    ]);
  });

  it('previews interval and one-off triggers in UTC, five fire times by default', async () => {
    const every = await service.call('POST', '/api/schedules/preview', {
      payload: { trigger: { kind: 'every', everyMs: 3_600_000 }, from: '2026-01-01T00:10:00Z' },
    });
    assert.equal(every.status, 200, every.raw);
    assert.equal(every.body.fireTimes.length, 5);
    assert.deepEqual(every.body.fireTimes[0], { at: '2026-01-01T01:00:00.000Z', local: '2026-01-01T01:00:00+00:00' });
    const past = await service.call('POST', '/api/schedules/preview', {
      payload: { trigger: { kind: 'at', at: '2020-01-01T00:00:00Z' } },
    });
    assert.equal(past.status, 200, past.raw);
    assert.deepEqual(past.body.fireTimes, []);
  });

  it('creates a schedule of a registered task (201, Location), 409 for a taken id', async () => {
    const body = {
      id: 'weekly/report',
      task: 'email.send',
      payload: { to: 'ops@example.com' },
      name: 'Weekly report',
      trigger: { kind: 'cron', expression: '0 9 * * 1', timezone: 'America/New_York' },
      maxInstances: 2,
      job: { queue: 'reports', priority: 5, tags: ['weekly'] },
    };
    const created = await service.call('POST', '/api/schedules', { payload: body });
    assert.equal(created.status, 201, created.raw);
    assert.equal(created.headers.location, '/api/schedules/weekly%2Freport');
    assert.equal(created.body.id, 'weekly/report');
    assert.deepEqual(created.body.payload, { to: 'ops@example.com' }, 'stored as sent; each job gets the schema output');
    assert.equal(created.body.description, "cron[day_of_week='1', hour='9', minute='0', timezone='America/New_York']");
    assert.deepEqual(created.body.jobOptions, { queue: 'reports', priority: 5, tags: ['weekly'] });
    assert.equal(created.body.paused, false);
    assert.ok(Date.parse(created.body.nextRunAt) > Date.now());
    const fetched = await service.call('GET', '/api/schedules/weekly%2Freport');
    assert.deepEqual(fetched.body, created.body);

    assertProblem(await service.call('POST', '/api/schedules', { payload: body }), 409, 'JOBYARD_SCHEDULE_EXISTS');
    const paused = await service.call('POST', '/api/schedules', { payload: { ...body, id: 'weekly-paused', paused: true } });
    assert.equal(paused.body.paused, true);
  });

  it('refuses to create a schedule of an unknown task (422), a bad payload, trigger or time zone (400)', async () => {
    const base = { id: 'x', task: 'noop', trigger: { kind: 'every', everyMs: 60_000 } };
    const create = (payload: object) => service.call('POST', '/api/schedules', { payload });
    assertProblem(await create({ ...base, task: 'no.such.task' }), 422, 'JOBYARD_UNKNOWN_TASK');
    assertFieldError(
      assertProblem(await create({ ...base, task: 'email.send', payload: { to: 'nobody' } }), 400, 'JOBYARD_VALIDATION'),
      'payload.to',
    );
    assertFieldError(
      assertProblem(await create({ ...base, trigger: { kind: 'cron', expression: '0 2 * * *', timezone: 'Mars/Olympus' } }), 400),
      'trigger.timezone',
    );
    assertFieldError(
      assertProblem(await create({ ...base, trigger: { kind: 'cron', expression: 'every day' } }), 400),
      'trigger.expression',
    );
    assertFieldError(assertProblem(await create({ ...base, id: 'a b' }), 400), 'id');
    assertFieldError(assertProblem(await create({ ...base, maxInstances: 0 }), 400), 'maxInstances');
    assertFieldError(assertProblem(await create({ ...base, job: { queue: 'a b' } }), 400), 'job.queue');
    assert.match(assertProblem(await create({ ...base, color: 'red' }), 400).detail, /color/);
    assert.deepEqual((await service.call('GET', '/api/schedules')).body.schedules, [], 'nothing was created');
  });

  it("updates a schedule's definition; a new trigger restarts it; 404 and 400 as for any schedule", async () => {
    await declareSchedules();
    const before = (await service.call('GET', '/api/schedules/nightly')).body;
    const renamed = await service.call('PATCH', '/api/schedules/nightly', { payload: { name: 'Nightly full', coalesce: false } });
    assert.equal(renamed.status, 200, renamed.raw);
    assert.equal(renamed.body.name, 'Nightly full');
    assert.equal(renamed.body.coalesce, false);
    assert.equal(renamed.body.nextRunAt, before.nextRunAt, 'the trigger did not change');
    assert.deepEqual(renamed.body.trigger, before.trigger);

    const retimed = await service.call('PATCH', '/api/schedules/nightly', {
      payload: { trigger: { kind: 'every', everyMs: 3_600_000 } },
    });
    assert.equal(retimed.body.description, 'interval[1:00:00]');
    assert.equal(Date.parse(retimed.body.nextRunAt) % 3_600_000, 0, 'on the hour');
    assert.equal(retimed.body.name, 'Nightly full', 'other fields kept');

    assertProblem(
      await service.call('PATCH', '/api/schedules/weekly', { payload: { name: 'x' } }),
      404,
      'JOBYARD_SCHEDULE_NOT_FOUND',
    );
    assertFieldError(
      assertProblem(
        await service.call('PATCH', '/api/schedules/every-minute', { payload: { payload: { to: 'nobody' } } }),
        400,
        'JOBYARD_VALIDATION',
      ),
      'payload.to',
    );
    assert.match(
      assertProblem(await service.call('PATCH', '/api/schedules/nightly', { payload: { task: 'noop' } }), 400).detail,
      /task/,
    );
    assertFieldError(
      assertProblem(
        await service.call('PATCH', '/api/schedules/nightly', { payload: { trigger: { kind: 'at', at: 'tomorrow' } } }),
        400,
      ),
      'trigger.at',
    );
  });

  it('deletes a schedule (204) and its history; 404 for an unknown one', async () => {
    await declareSchedules();
    await service.call('POST', '/api/schedules/nightly/run');
    const deleted = await service.call('DELETE', '/api/schedules/nightly');
    assert.equal(deleted.status, 204, deleted.raw);
    assert.equal(await service.scheduler().getSchedule('nightly'), null);
    assertProblem(await service.call('GET', '/api/schedules/nightly/history'), 404, 'JOBYARD_SCHEDULE_NOT_FOUND');
    assertProblem(await service.call('DELETE', '/api/schedules/nightly'), 404, 'JOBYARD_SCHEDULE_NOT_FOUND');
    assert.equal((await service.client().listJobs({ task: 'noop' })).jobs.length, 1, 'its job stays');
  });

  it('answers a bad trigger with 400 naming the field', async () => {
    const preview = (payload: object) => service.call('POST', '/api/schedules/preview', { payload });
    assertFieldError(
      assertProblem(await preview({ trigger: { kind: 'cron', expression: '61 * * * *' } }), 400, 'JOBYARD_VALIDATION'),
      'trigger.expression',
    );
    assertFieldError(
      assertProblem(await preview({ trigger: { kind: 'cron', expression: '0 2 * * *', timezone: 'Mars/Olympus' } }), 400),
      'trigger.timezone',
    );
    assertFieldError(assertProblem(await preview({ trigger: { kind: 'every', everyMs: 10 } }), 400), 'trigger.everyMs');
    assertFieldError(
      assertProblem(await preview({ trigger: { kind: 'cron', expression: '* * * * *' }, count: 0 }), 400),
      'count',
    );
    assertProblem(await preview({ trigger: { kind: 'weekly' } }), 400, 'JOBYARD_VALIDATION');
    assertProblem(await preview({}), 400, 'JOBYARD_VALIDATION');
  });
}

/** noSchedulerSuite: a service without a scheduler serves the preview but no schedule routes. */
export function noSchedulerSuite(makeStore: MakeStore): void {
  describe('without a scheduler', () => {
    const service = useService(makeStore, { scheduler: undefined });
    it('answers schedule routes with 404 and still previews triggers', async () => {
      assertProblem(await service.call('GET', '/api/schedules'), 404, 'JOBYARD_ROUTE_NOT_FOUND');
      assertProblem(await service.call('POST', '/api/schedules/nightly/run'), 404, 'JOBYARD_ROUTE_NOT_FOUND');
      const preview = await service.call('POST', '/api/schedules/preview', {
        payload: { trigger: { kind: 'every', everyMs: 1000 } },
      });
      assert.equal(preview.status, 200, preview.raw);
    });
  });
}
