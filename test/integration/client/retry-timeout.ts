import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask, type JobyardEvents } from '../../../src/core/index.js';
import { RateLimitedError, TimeoutError, UnrecoverableError } from '../../../src/errors/index.js';
import type { JobErrorRecord } from '../../../src/types/index.js';
import {
  countEvents,
  FAKE_CLOCK_WORKER,
  FAST_WORKER,
  FakeClock,
  forJob,
  type MakeStore,
  mustGet,
  nextEvent,
  useHarness,
  watchCalls,
} from './fixtures.js';

/** A short fixed backoff so retries come back within milliseconds of real time. */
const QUICK_RETRY = { type: 'fixed', delayMs: 10 } as const;

function assertErrorRecord(record: JobErrorRecord | undefined, attempt: number, message: string): void {
  assert.ok(record, `an error record for attempt ${attempt}`);
  assert.equal(record.attempt, attempt);
  assert.equal(record.message, message);
  assert.ok(record.stack?.includes(message), 'the stack is kept');
  assert.ok(!Number.isNaN(Date.parse(record.at)), 'the failure time is an ISO date');
}

export function retryTimeoutSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('retries a failing handler after its backoff until it succeeds, keeping each error', async () => {
    const flaky = defineTask('flaky.twice', {
      maxAttempts: 5,
      backoff: QUICK_RETRY,
      handler: (_payload: Record<string, never>, { job }) => {
        if (job.attempt < 3) throw new Error(`upstream 503 on attempt ${job.attempt}`);
        return { attempt: job.attempt };
      },
    });
    const client = await harness.client({ tasks: [flaky] });
    const { job } = await client.enqueue(flaky, {});
    const retrying = countEvents([client], 'job:retrying', 2);
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    await client.start(FAST_WORKER);
    await completed;

    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 3);
    assert.deepEqual(stored.result, { attempt: 3 });
    assert.equal(stored.errors.length, 2);
    assertErrorRecord(stored.errors[0], 1, 'upstream 503 on attempt 1');
    assertErrorRecord(stored.errors[1], 2, 'upstream 503 on attempt 2');
    const retries = await retrying;
    assert.deepEqual(
      retries.map((event) => [event.job.id, event.error.attempt]),
      [
        [job.id, 1],
        [job.id, 2],
      ],
    );
    for (const event of retries) {
      const failedAt = Date.parse(event.error.at);
      assert.equal(event.runAt.getTime() - failedAt, QUICK_RETRY.delayMs, 'runAt is the failure time plus the backoff');
    }
  });

  it('fails the job for good once maxAttempts are spent', async () => {
    const broken = defineTask('broken.always', {
      maxAttempts: 3,
      backoff: QUICK_RETRY,
      handler: (_payload: Record<string, never>, { job }): never => {
        throw new Error(`broken on attempt ${job.attempt}`);
      },
    });
    const client = await harness.client({ tasks: [broken] });
    const { job } = await client.enqueue(broken, {});
    const failed = nextEvent(client, 'job:failed', forJob(job.id));
    await client.start(FAST_WORKER);
    const event = await failed;

    assert.equal(event.error.attempt, 3);
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'failed');
    assert.equal(stored.attempt, 3);
    assert.ok(stored.finishedAt);
    assert.deepEqual(
      stored.errors.map((error) => [error.attempt, error.message]),
      [
        [1, 'broken on attempt 1'],
        [2, 'broken on attempt 2'],
        [3, 'broken on attempt 3'],
      ],
    );
  });

  it('fails at once on UnrecoverableError, with attempts left', async () => {
    const fatal = defineTask('fatal.once', {
      maxAttempts: 5,
      backoff: QUICK_RETRY,
      handler: (): never => {
        throw new UnrecoverableError('card declined');
      },
    });
    const client = await harness.client({ tasks: [fatal] });
    const { job } = await client.enqueue(fatal, {});
    const failed = nextEvent(client, 'job:failed', forJob(job.id));
    await client.start(FAST_WORKER);
    await failed;

    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'failed');
    assert.equal(stored.attempt, 1);
    assert.equal(stored.errors.length, 1);
    assert.equal(stored.errors[0]?.message, 'card declined');
    assert.equal(stored.errors[0]?.name, 'JOBYARD_UNRECOVERABLE');
  });

  it('snoozes a job until later without spending an attempt (RateLimitedError, a SnoozeError for an upstream 429)', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const polite = defineTask('rate.limited', {
      maxAttempts: 1,
      handler: () => {
        calls += 1;
        if (calls === 1) throw new RateLimitedError(60_000);
        return 'done';
      },
    });
    const client = await harness.client({ tasks: [polite], clock });
    const { job } = await client.enqueue(polite, {});
    const claims = watchCalls(harness.store(), 'jobClaim');
    const released = nextEvent(client, 'job:released', forJob(job.id));
    await client.start(FAKE_CLOCK_WORKER);
    const event = await released;
    assert.deepEqual(event.runAt, new Date(clock.now().getTime() + 60_000));

    await claims.rounds(3);
    assert.equal(calls, 1, 'not run again before the snooze ends');
    const snoozed = await mustGet(client, job.id);
    assert.notEqual(snoozed.status, 'running');
    assert.equal(snoozed.attempt, 0, 'the snoozed attempt is not spent');
    assert.deepEqual(snoozed.errors, []);
    assert.deepEqual(snoozed.runAt, event.runAt);

    // maxAttempts is 1: it can only complete because the snooze gave its attempt back.
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    clock.advance(60_000);
    await completed;
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 1);
    assert.equal(calls, 2);
  });

  it('aborts the signal of a handler past timeoutMs and fails the attempt with JOBYARD_TIMEOUT', async () => {
    const reasons: unknown[] = [];
    const slow = defineTask('slow.forever', {
      timeoutMs: 50,
      maxAttempts: 2,
      backoff: QUICK_RETRY,
      // Runs until its signal aborts, as a well-behaved long handler does.
      handler: (_payload: Record<string, never>, { signal }) =>
        new Promise<never>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reasons.push(signal.reason);
            reject(signal.reason);
          });
        }),
    });
    const client = await harness.client({ tasks: [slow] });
    const { job } = await client.enqueue(slow, {});
    assert.equal(job.timeoutMs, 50);
    const failures: JobyardEvents['job:retrying'][] = [];
    client.events.on('job:retrying', (event) => failures.push(event));
    const failed = nextEvent(client, 'job:failed', forJob(job.id));
    await client.start(FAST_WORKER);
    await failed;

    assert.equal(reasons.length, 2, 'each attempt was aborted');
    assert.ok(reasons.every((reason) => reason instanceof TimeoutError));
    assert.equal(failures.length, 1, 'a timeout is a failed attempt that is retried');
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'failed');
    assert.equal(stored.attempt, 2);
    assert.deepEqual(
      stored.errors.map((error) => [error.attempt, error.name]),
      [
        [1, 'JOBYARD_TIMEOUT'],
        [2, 'JOBYARD_TIMEOUT'],
      ],
    );
  });
}
