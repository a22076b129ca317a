import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertFieldError, assertProblem, type MakeStore, useService } from './fixtures.js';

const ADA = { task: 'email.send', payload: { to: 'ada@example.com' } };
const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';

export function jobsSuite(makeStore: MakeStore): void {
  const service = useService(makeStore);

  it('enqueues a job by task name (201, Location) and gets it back', async () => {
    const created = await service.call('POST', '/api/jobs', {
      payload: { ...ADA, priority: 'high', metadata: { user_id: 42 }, tags: ['welcome'] },
    });
    assert.equal(created.status, 201, created.raw);
    assert.equal(created.headers.location, `/api/jobs/${created.body.id}`);
    assert.equal(created.body.task, 'email.send');
    assert.equal(created.body.status, 'available');
    assert.equal(created.body.priority, 10);
    assert.deepEqual(created.body.payload, { to: 'ada@example.com', subject: 'Hello' }, 'the schema output is stored');
    assert.deepEqual(created.body.metadata, { user_id: 42 });
    assert.match(created.body.runAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const fetched = await service.call('GET', `/api/jobs/${created.body.id}`);
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.body, created.body);
  });

  it('delays a job with runAt or delayMs', async () => {
    const later = await service.call('POST', '/api/jobs', { payload: { task: 'noop', delayMs: 60_000 } });
    assert.equal(later.status, 201, later.raw);
    assert.equal(later.body.status, 'scheduled');
    const at = await service.call('POST', '/api/jobs', { payload: { task: 'noop', runAt: '2100-01-01T00:00:00+02:00' } });
    assert.equal(at.body.runAt, '2099-12-31T22:00:00.000Z');
  });

  it("answers a payload the task's schema rejects with 400 and the field errors", async () => {
    const answer = await service.call('POST', '/api/jobs', {
      payload: { task: 'email.send', payload: { to: 'not-an-address' } },
    });
    assertFieldError(assertProblem(answer, 400, 'JOBYARD_VALIDATION'), 'payload.to');
  });

  it('answers an unknown task with 422', async () => {
    const answer = await service.call('POST', '/api/jobs', { payload: { task: 'no.such.task', payload: {} } });
    assertProblem(answer, 422, 'JOBYARD_UNKNOWN_TASK');
  });

  it('answers wrong types, unknown fields and bad options with 400 naming each field', async () => {
    assertFieldError(
      assertProblem(await service.call('POST', '/api/jobs', { payload: { task: 42 } }), 400, 'JOBYARD_VALIDATION'),
      'task',
    );
    assertFieldError(
      assertProblem(await service.call('POST', '/api/jobs', { payload: { ...ADA, priority: 5000 } }), 400),
      'priority',
    );
    assertFieldError(assertProblem(await service.call('POST', '/api/jobs', { payload: { ...ADA, queue: 'a b' } }), 400), 'queue');
    const unknownField = assertProblem(await service.call('POST', '/api/jobs', { payload: { ...ADA, prio: 1 } }), 400);
    assert.match(unknownField.detail, /prio/);
    assertProblem(await service.call('POST', '/api/jobs', { payload: [ADA] }), 400, 'JOBYARD_VALIDATION');
    assertProblem(await service.call('POST', '/api/jobs'), 400, 'JOBYARD_VALIDATION');
  });

  it('returns the live job holding a dedupKey with 200 instead of a new one', async () => {
    const first = await service.call('POST', '/api/jobs', { payload: { ...ADA, dedupKey: 'welcome:ada' } });
    const again = await service.call('POST', '/api/jobs', { payload: { ...ADA, dedupKey: 'welcome:ada' } });
    assert.equal(first.status, 201);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
  });

  it('replays an Idempotency-Key with the same job and answer', async () => {
    const headers = { 'idempotency-key': 'order-1234' };
    const first = await service.call('POST', '/api/jobs', { payload: ADA, headers });
    assert.equal(first.status, 201, first.raw);
    assert.equal(first.headers['idempotent-replayed'], 'false');
    assert.equal(first.body.dedupKey, 'order-1234');
    const replay = await service.call('POST', '/api/jobs', { payload: ADA, headers });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.headers.location, first.headers.location);
    assert.deepEqual(replay.body, first.body);
  });

  it('makes one job of concurrent requests with one Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'burst' };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => service.call('POST', '/api/jobs', { payload: ADA, headers })),
    );
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([201]));
    assert.equal(new Set(answers.map((answer) => answer.body.id)).size, 1);
    assert.equal(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'false').length, 1);
    const { jobs } = await service.client().listJobs({ dedupKey: 'burst' });
    assert.equal(jobs.length, 1);
  });

  it('replays an Idempotency-Key after its job finished, with that job', async () => {
    const headers = { 'idempotency-key': 'done-once' };
    const first = await service.call('POST', '/api/jobs', { payload: ADA, headers });
    await service.client().cancel(first.body.id);
    const replay = await service.call('POST', '/api/jobs', { payload: ADA, headers });
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, first.body.id);
    assert.equal(replay.body.status, 'cancelled');
  });

  it('refuses an Idempotency-Key reused for another payload or task (422), or that disagrees with dedupKey (400)', async () => {
    const headers = { 'idempotency-key': 'reused' };
    await service.call('POST', '/api/jobs', { payload: ADA, headers });
    const otherPayload = { task: 'email.send', payload: { to: 'grace@example.com' } };
    assertProblem(
      await service.call('POST', '/api/jobs', { payload: otherPayload, headers }),
      422,
      'JOBYARD_IDEMPOTENCY_KEY_REUSED',
    );
    assertProblem(
      await service.call('POST', '/api/jobs', { payload: { task: 'noop' }, headers }),
      422,
      'JOBYARD_IDEMPOTENCY_KEY_REUSED',
    );
    const sameWithDefault = { task: 'email.send', payload: { to: 'ada@example.com', subject: 'Hello' } };
    assert.equal((await service.call('POST', '/api/jobs', { payload: sameWithDefault, headers })).status, 201);
    assertFieldError(
      assertProblem(await service.call('POST', '/api/jobs', { payload: { ...ADA, dedupKey: 'other' }, headers }), 400),
      'dedupKey',
    );
    assertFieldError(
      assertProblem(
        await service.call('POST', '/api/jobs', { payload: ADA, headers: { 'idempotency-key': 'k'.repeat(513) } }),
        400,
      ),
      'idempotency-key',
    );
  });

  it('lists jobs newest first with the filters of listJobs and cursor pages', async () => {
    const first = await service.call('POST', '/api/jobs', { payload: { ...ADA, metadata: { user_id: 42 }, tags: ['a'] } });
    const second = await service.call('POST', '/api/jobs', { payload: { task: 'noop', payload: [1, 2] } });
    const third = await service.call('POST', '/api/jobs', { payload: { ...ADA, metadata: { user_id: 7 } } });
    await service.client().cancel(third.body.id);
    const ids = async (query: string) => {
      const answer = await service.call('GET', `/api/jobs${query}`);
      assert.equal(answer.status, 200, answer.raw);
      return answer.body.jobs.map((job: { id: string }) => job.id);
    };
    assert.deepEqual(await ids(''), [third.body.id, second.body.id, first.body.id]);
    assert.deepEqual(await ids('?task=noop'), [second.body.id]);
    assert.deepEqual(await ids('?queue=default'), [third.body.id, first.body.id]);
    assert.deepEqual(await ids('?status=cancelled'), [third.body.id]);
    assert.deepEqual(await ids('?status=cancelled&status=available'), [third.body.id, second.body.id, first.body.id]);
    assert.deepEqual(await ids(`?metadata=${encodeURIComponent('{"user_id":42}')}`), [first.body.id]);
    assert.deepEqual(await ids('?tag=a'), [first.body.id]);

    const page1 = await service.call('GET', '/api/jobs?limit=2');
    assert.equal(page1.body.jobs.length, 2);
    assert.equal(typeof page1.body.nextCursor, 'string');
    const page2 = await service.call('GET', `/api/jobs?limit=2&cursor=${page1.body.nextCursor}`);
    assert.deepEqual(
      page2.body.jobs.map((job: { id: string }) => job.id),
      [first.body.id],
    );
    assert.equal(page2.body.nextCursor, null);
  });

  it('answers bad list filters with 400 naming the parameter', async () => {
    for (const [query, path] of [
      ['limit=0', 'limit'],
      ['limit=ten', 'limit'],
      ['status=lost', 'status'],
      ['cursor=page-2', 'cursor'],
      ['metadata=%7Bnot-json', 'metadata'],
      ['metadata=%5B1%5D', 'metadata'],
      ['queue=a%20b', 'queue'],
      ['tag=%00', 'tag'],
    ] as const) {
      assertFieldError(assertProblem(await service.call('GET', `/api/jobs?${query}`), 400, 'JOBYARD_VALIDATION'), path);
    }
    assertProblem(await service.call('GET', '/api/jobs?sort=asc'), 400, 'JOBYARD_VALIDATION');
  });

  it('answers a job id that no job has with 404 and a malformed one with 400', async () => {
    assertProblem(await service.call('GET', `/api/jobs/${UNKNOWN_ID}`), 404, 'JOBYARD_JOB_NOT_FOUND');
    assertFieldError(assertProblem(await service.call('GET', '/api/jobs/42'), 400, 'JOBYARD_VALIDATION'), 'id');
    for (const action of ['cancel', 'retry']) {
      assertProblem(await service.call('POST', `/api/jobs/${UNKNOWN_ID}/${action}`), 404, 'JOBYARD_JOB_NOT_FOUND');
      assertProblem(await service.call('POST', `/api/jobs/not-a-uuid/${action}`), 400, 'JOBYARD_VALIDATION');
    }
  });

  it('cancels and retries a job, and answers 409 when its status does not allow it', async () => {
    const { body: job } = await service.call('POST', '/api/jobs', { payload: ADA });
    const retryWaiting = assertProblem(await service.call('POST', `/api/jobs/${job.id}/retry`), 409, 'JOBYARD_INVALID_STATE');
    assert.match(retryWaiting.detail, /available/);
    // A bodiless POST that still says application/json, as many HTTP clients send it.
    const cancelled = await service.call('POST', `/api/jobs/${job.id}/cancel`, {
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(cancelled.status, 200, cancelled.raw);
    assert.equal(cancelled.body.status, 'cancelled');
    assertProblem(await service.call('POST', `/api/jobs/${job.id}/cancel`), 409, 'JOBYARD_INVALID_STATE');
    const retried = await service.call('POST', `/api/jobs/${job.id}/retry`);
    assert.equal(retried.status, 200, retried.raw);
    assert.equal(retried.body.status, 'available');
  });

  it('counts jobs per queue and status', async () => {
    await service.call('POST', '/api/jobs', { payload: ADA });
    const { body: cancelled } = await service.call('POST', '/api/jobs', { payload: ADA });
    await service.call('POST', `/api/jobs/${cancelled.id}/cancel`);
    await service.call('POST', '/api/jobs', { payload: { task: 'noop' } });
    const answer = await service.call('GET', '/api/queues');
    assert.equal(answer.status, 200, answer.raw);
    const byQueue = Object.fromEntries(answer.body.queues.map((stats: { queue: string }) => [stats.queue, stats]));
    assert.equal(byQueue.default.total, 2);
    assert.equal(byQueue.default.counts.available, 1);
    assert.equal(byQueue.default.counts.cancelled, 1);
    assert.equal(byQueue.default.counts.failed, 0);
    assert.equal(byQueue.other.total, 1);
  });

  it('deletes a finished job (204), refuses a live one (409), 404 for an unknown id', async () => {
    const { body: job } = await service.call('POST', '/api/jobs', { payload: ADA });
    const live = assertProblem(await service.call('DELETE', `/api/jobs/${job.id}`), 409, 'JOBYARD_INVALID_STATE');
    assert.match(live.detail, /available/);
    await service.call('POST', `/api/jobs/${job.id}/cancel`);
    const deleted = await service.call('DELETE', `/api/jobs/${job.id}`);
    assert.equal(deleted.status, 204, deleted.raw);
    assert.equal(deleted.raw, '');
    assertProblem(await service.call('GET', `/api/jobs/${job.id}`), 404, 'JOBYARD_JOB_NOT_FOUND');
    assertProblem(await service.call('DELETE', `/api/jobs/${job.id}`), 404, 'JOBYARD_JOB_NOT_FOUND');
    assertFieldError(assertProblem(await service.call('DELETE', '/api/jobs/42'), 400, 'JOBYARD_VALIDATION'), 'id');
  });

  it('pauses and resumes a queue, and lists a paused queue without jobs', async () => {
    await service.call('POST', '/api/jobs', { payload: ADA });
    const paused = await service.call('POST', '/api/queues/default/pause');
    assert.equal(paused.status, 200, paused.raw);
    assert.equal(paused.body.queue, 'default');
    assert.equal(paused.body.paused, true);
    assert.ok(Date.parse(paused.body.pausedAt) <= Date.now());
    const again = await service.call('POST', '/api/queues/default/pause');
    assert.equal(again.body.pausedAt, paused.body.pausedAt, 'pausing again keeps the first pause time');
    // A queue name with a slash travels percent-encoded.
    assert.equal((await service.call('POST', '/api/queues/mail%2Fbulk/pause')).body.queue, 'mail/bulk');

    const listed = await service.call('GET', '/api/queues');
    const byQueue = Object.fromEntries(listed.body.queues.map((stats: { queue: string }) => [stats.queue, stats]));
    assert.deepEqual(
      { paused: byQueue.default.paused, pausedAt: byQueue.default.pausedAt, total: byQueue.default.total },
      { paused: true, pausedAt: paused.body.pausedAt, total: 1 },
    );
    assert.deepEqual({ paused: byQueue['mail/bulk'].paused, total: byQueue['mail/bulk'].total }, { paused: true, total: 0 });

    const resumed = await service.call('POST', '/api/queues/default/resume');
    assert.equal(resumed.status, 200, resumed.raw);
    assert.deepEqual(resumed.body, { queue: 'default', paused: false, pausedAt: null });
    assert.equal((await service.client().queueStats()).find((stats) => stats.queue === 'default')?.paused, false);
    assertFieldError(assertProblem(await service.call('POST', '/api/queues/a%20b/pause'), 400, 'JOBYARD_VALIDATION'), 'queue');
  });
}
