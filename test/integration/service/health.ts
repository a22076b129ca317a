import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import { waitForEvent } from '../../helpers/event-waiter.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { type MakeStore, useService } from './fixtures.js';

const T0 = '2026-05-01T08:00:00.000Z';
const MINUTE = 60_000;

/** nextTurn lets every callback already queued run (the engine's bookkeeping after an event). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function healthSuite(makeStore: MakeStore): void {
  const clock = new FakeClock(T0);
  // A long scheduler poll interval: its loop ticks once at start, then not again during a test.
  const service = useService(
    makeStore,
    { stuckAfterMs: 30 * MINUTE, failureWindowMs: 60 * MINUTE },
    { clock, scheduler: { pollIntervalMs: 60_000 } },
  );

  it('is ready with the store and migrations checked, and no loop checks while nothing runs here', async () => {
    clock.set(T0);
    const ready = await service.call('GET', '/health/ready');
    assert.equal(ready.status, 200, ready.raw);
    assert.deepEqual(
      ready.body.checks.map((check: { name: string; ok: boolean }) => [check.name, check.ok]),
      [
        ['store', true],
        ['migrations', true],
      ],
    );
  });

  it('reports a scheduler that stopped ticking as not ready, and ready again once it ticks', async () => {
    clock.set(T0);
    const scheduler = service.scheduler();
    await scheduler.schedule('every-minute', { task: 'noop', trigger: { kind: 'every', everyMs: MINUTE } });
    clock.advance(MINUTE);
    const { events } = service.client();
    const fired = waitForEvent(
      (listener) => events.on('schedule:fired', listener),
      () => true,
      'a schedule fire',
    );
    scheduler.start();
    try {
      await fired;
      await nextTurn();
      const ready = await service.call('GET', '/health/ready');
      assert.equal(ready.status, 200, ready.raw);
      assert.deepEqual(ready.body.checks.at(-1), { name: 'scheduler', ok: true, durationMs: 0 });

      // The limit is the larger of stalledAfterMs (30 s) and 3 poll intervals (180 s).
      clock.advance(180_001);
      const stalled = await service.call('GET', '/health/ready');
      assert.equal(stalled.status, 503, stalled.raw);
      assert.equal(stalled.body.status, 'not ready');
      assert.deepEqual(stalled.body.reasons, ['scheduler: no progress for 180001 ms (limit 180000 ms)']);
    } finally {
      await scheduler.stop();
    }
    // A stopped scheduler is not checked; a started one counts from its start.
    assert.equal((await service.call('GET', '/health/ready')).status, 200);
  });

  it('reports a worker whose loop made no progress as not ready', async () => {
    clock.set(T0);
    const client = service.client();
    let release: () => void = () => {};
    const blocking = defineTask('blocking', {
      handler: () =>
        new Promise<null>((resolve) => {
          release = () => resolve(null);
        }),
    });
    client.register(blocking);
    await client.enqueue(blocking, {});
    const started = waitForEvent(
      (listener) => client.events.on('job:started', listener),
      () => true,
      'the job start',
    );
    // One slot and the job already waiting: the first claim takes it, then the loop only
    // wakes to find its slot busy, and the long lease keeps the rescuer away.
    const worker = await client.start({ concurrency: 1, pollIntervalMs: 60_000, leaseMs: 3_600_000 });
    await started;
    await nextTurn();
    try {
      const ready = await service.call('GET', '/health/ready');
      assert.equal(ready.status, 200, ready.raw);
      assert.deepEqual(ready.body.checks.at(-1), { name: `worker ${worker.id}`, ok: true, durationMs: 0 });
      clock.advance(180_001);
      const stalled = await service.call('GET', '/health/ready');
      assert.equal(stalled.status, 503, stalled.raw);
      assert.deepEqual(stalled.body.reasons, [`worker ${worker.id}: no progress for 180001 ms (limit 180000 ms)`]);
    } finally {
      release();
    }
  });

  it('reports queue counts, stuck jobs and the failure rate of the window', async () => {
    clock.set(T0);
    const client = service.client();
    const store = client.store;
    const claimAll = (queue: string) =>
      store.jobClaim({ queues: [queue], workerId: 'w-1', limit: 10, leaseMs: 3_600_000, now: clock.now() });
    const { job: stuck } = await client.enqueue('noop', { n: 1 }, { queue: 'slow' });
    await claimAll('slow');
    await client.enqueue('noop', { n: 2 }, { queue: 'waiting' });

    // 40 min later: the slow job runs past the 30 min threshold; two jobs complete, two fail for good.
    clock.advance(40 * MINUTE);
    for (const index of [1, 2, 3, 4]) await client.enqueue('noop', { index }, { queue: 'work', maxAttempts: 1 });
    const claimed = await claimAll('work');
    assert.equal(claimed.length, 4);
    const now = clock.now();
    await store.jobSettleMany({
      settles: claimed.map(({ job, leaseToken }, index) => ({
        id: job.id,
        leaseToken,
        outcome:
          index < 2
            ? { kind: 'completed', result: null }
            : { kind: 'failed', error: { attempt: 1, at: now.toISOString(), message: 'boom', name: 'Error' } },
      })),
      now,
    });

    const answer = await service.call('GET', '/health/jobs');
    assert.equal(answer.status, 200, answer.raw);
    const { body } = answer;
    assert.equal(body.checkedAt, now.toISOString());
    assert.deepEqual(
      body.queues.map((queue: { queue: string; total: number }) => [queue.queue, queue.total]),
      [
        ['slow', 1],
        ['waiting', 1],
        ['work', 4],
      ],
    );
    assert.equal(body.queues[2].counts.failed, 2);
    assert.deepEqual(body.stuck, {
      thresholdMs: 30 * MINUTE,
      count: 1,
      jobs: [
        { id: stuck.id, queue: 'slow', task: 'noop', attempt: 1, startedAt: T0, runningForMs: 40 * MINUTE, workerId: 'w-1' },
      ],
    });
    assert.deepEqual(body.failures, {
      windowMs: 60 * MINUTE,
      completed: 2,
      failed: 2,
      cancelled: 0,
      failureRate: 0.5,
      threshold: 0.5,
    });
    // At the threshold the rate is not above it: only the stuck job degrades the report.
    assert.equal(body.status, 'degraded');
    assert.deepEqual(body.reasons, ['1 job(s) running for more than 1800000 ms']);

    // Two hours on, the failures have left the window and the stuck job is still reported.
    clock.advance(120 * MINUTE);
    const later = (await service.call('GET', '/health/jobs')).body;
    assert.deepEqual([later.failures.completed, later.failures.failed, later.failures.failureRate], [0, 0, null]);
    assert.equal(later.stuck.jobs[0].runningForMs, 160 * MINUTE);
  });

  it('reports a failure rate above the threshold as degraded, and ok when nothing is wrong', async () => {
    clock.set(T0);
    const client = service.client();
    assert.equal((await service.call('GET', '/health/jobs')).body.status, 'ok');
    for (const index of [1, 2, 3]) await client.enqueue('noop', { index }, { maxAttempts: 1 });
    const claimed = await client.store.jobClaim({
      queues: ['other'],
      workerId: 'w-1',
      limit: 10,
      leaseMs: 60_000,
      now: clock.now(),
    });
    const now = clock.now();
    await client.store.jobSettleMany({
      settles: claimed.map(({ job, leaseToken }, index) => ({
        id: job.id,
        leaseToken,
        outcome:
          index === 0
            ? { kind: 'completed', result: null }
            : { kind: 'failed', error: { attempt: 1, at: now.toISOString(), message: 'boom', name: 'Error' } },
      })),
      now,
    });
    const body = (await service.call('GET', '/health/jobs')).body;
    assert.equal(body.status, 'degraded');
    assert.deepEqual(body.reasons, [`failure rate 0.667 over the last ${60 * MINUTE} ms is above 0.5`]);
  });
}
