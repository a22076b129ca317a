import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask, type JobyardEvents } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import {
  countEvents,
  deferred,
  FAKE_CLOCK_WORKER,
  FAST_WORKER,
  FakeClock,
  forJob,
  type MakeStore,
  mustGet,
  nextEvent,
  useHarness,
  watchCalls,
  within,
} from './fixtures.js';

export function workerSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('runs jobs and stores their results', async () => {
    const double = defineTask('math.double', { handler: async ({ n }: { n: number }) => ({ doubled: n * 2 }) });
    const client = await harness.client({ tasks: [double] });
    const enqueued = await Promise.all([1, 2, 3].map((n) => client.enqueue(double, { n })));
    const completed = countEvents([client], 'job:completed', 3);
    await client.start(FAST_WORKER);
    await completed;
    for (const [index, { job }] of enqueued.entries()) {
      const stored = await mustGet(client, job.id);
      assert.equal(stored.status, 'completed');
      assert.deepEqual(stored.result, { doubled: (index + 1) * 2 });
      assert.equal(stored.attempt, 1);
      assert.deepEqual(stored.errors, []);
      assert.ok(stored.startedAt && stored.finishedAt, 'start and finish times are stored');
      assert.equal(stored.leaseOwner, null);
    }
  });

  it('runs jobs by priority, high first, then in enqueue order, with concurrency 1', async () => {
    const ran: string[] = [];
    const record = defineTask('order.record', {
      handler: ({ label }: { label: string }) => {
        ran.push(label);
      },
    });
    const client = await harness.client({ tasks: [record] });
    const jobs: [string, number | 'low' | 'normal' | 'high'][] = [
      ['low', 'low'],
      ['normal-1', 'normal'],
      ['five', 5],
      ['high', 'high'],
      ['normal-2', 0],
      ['minus-three', -3],
    ];
    for (const [label, priority] of jobs) await client.enqueue(record, { label }, { priority });
    const completed = countEvents([client], 'job:completed', jobs.length);
    await client.start({ ...FAST_WORKER, concurrency: 1 });
    await completed;
    assert.deepEqual(ran, ['high', 'five', 'normal-1', 'normal-2', 'minus-three', 'low']);
  });

  it('does not run a delayed job before its time', async () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    const record = defineTask('delay.record', {
      handler: ({ label }: { label: string }) => {
        ran.push(label);
      },
    });
    const client = await harness.client({ tasks: [record], clock });
    const start = clock.now();
    const delayed = await client.enqueue(record, { label: 'delayed' }, { delayMs: 60_000 });
    assert.equal(delayed.job.status, 'scheduled');
    assert.deepEqual(delayed.job.runAt, new Date(start.getTime() + 60_000));
    const at = await client.enqueue(record, { label: 'runAt' }, { runAt: new Date(start.getTime() + 30_000) });
    const now = await client.enqueue(record, { label: 'now' });
    const claims = watchCalls(harness.store(), 'jobClaim');

    const nowDone = nextEvent(client, 'job:completed', forJob(now.job.id));
    await client.start(FAKE_CLOCK_WORKER);
    await nowDone;
    await claims.rounds(3);
    assert.deepEqual(ran, ['now']);

    clock.advance(29_999);
    await claims.rounds(3);
    assert.deepEqual(ran, ['now'], 'one millisecond early is still too early');

    const atDone = nextEvent(client, 'job:completed', forJob(at.job.id));
    clock.advance(1);
    await atDone;
    await claims.rounds(3);
    assert.deepEqual(ran, ['now', 'runAt']);
    assert.equal((await mustGet(client, delayed.job.id)).status, 'scheduled');

    const delayedDone = nextEvent(client, 'job:completed', forJob(delayed.job.id));
    clock.advance(30_000);
    await delayedDone;
    assert.deepEqual(ran, ['now', 'runAt', 'delayed']);
    const stored = await mustGet(client, delayed.job.id);
    assert.ok(stored.startedAt && stored.startedAt >= stored.runAt, 'started at or after runAt');
  });

  it('stores and emits progress while the job runs', async () => {
    const reported = deferred();
    const finish = deferred();
    const rejectedFractions: unknown[] = [];
    const upload = defineTask('file.upload', {
      handler: async (_payload: Record<string, never>, { progress }) => {
        for (const bad of [1.5, -0.1, Number.NaN]) {
          await progress(bad).catch((error: unknown) => rejectedFractions.push(error));
        }
        await progress(0.25);
        await progress(0.5, 'half way');
        reported.resolve();
        await finish.promise;
        return 'uploaded';
      },
    });
    const client = await harness.client({ tasks: [upload] });
    const progressEvents: JobyardEvents['job:progress'][] = [];
    client.events.on('job:progress', (event) => progressEvents.push(event));
    const { job } = await client.enqueue(upload, {});
    await client.start(FAST_WORKER);
    await within(reported.promise, 'progress reported');

    const running = await mustGet(client, job.id);
    assert.equal(running.status, 'running');
    assert.equal(running.progress, 0.5);
    assert.equal(running.progressMessage, 'half way');
    assert.deepEqual(
      progressEvents.map((event) => [event.job.id, event.progress, event.message]),
      [
        [job.id, 0.25, null],
        [job.id, 0.5, 'half way'],
      ],
    );
    assert.equal(rejectedFractions.length, 3);
    assert.ok(rejectedFractions.every((error) => error instanceof ValidationError));

    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    finish.resolve();
    await completed;
    assert.equal((await mustGet(client, job.id)).result, 'uploaded');
  });

  it('emits enqueued, started, progress and completed events for a job', async () => {
    const greet = defineTask('events.greet', {
      handler: async ({ name }: { name: string }, { progress }) => {
        await progress(1, 'greeted');
        return `hello ${name}`;
      },
    });
    const client = await harness.client({ tasks: [greet] });
    const seen: { name: string; job: { id: string; status: string; attempt: number } }[] = [];
    for (const name of ['job:enqueued', 'job:started', 'job:progress', 'job:completed', 'job:failed'] as const) {
      client.events.on(name, (event) => seen.push({ name, job: event.job }));
    }
    const completed = nextEvent(client, 'job:completed');
    const { job } = await client.enqueue(greet, { name: 'Ada' });
    await client.start(FAST_WORKER);
    const event = await completed;

    assert.equal(event.job.id, job.id);
    assert.equal(event.result, 'hello Ada');
    assert.equal(event.job.status, 'completed');
    assert.ok(event.durationMs >= 0);
    assert.deepEqual(
      seen.map((entry) => [entry.name, entry.job.id, entry.job.status, entry.job.attempt]),
      [
        ['job:enqueued', job.id, 'available', 0],
        ['job:started', job.id, 'running', 1],
        ['job:progress', job.id, 'running', 1],
        ['job:completed', job.id, 'completed', 1],
      ],
    );
  });
}
