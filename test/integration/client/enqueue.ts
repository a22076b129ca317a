import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import { defineTask, type EnqueueOptions } from '../../../src/core/index.js';
import { JobNotFoundError, UnknownTaskError, ValidationError } from '../../../src/errors/index.js';
import { allJobs, FAST_WORKER, forJob, type MakeStore, nextEvent, rejectsWithIssue, useHarness } from './fixtures.js';

const sendEmail = defineTask('email.send', {
  schema: z.object({
    to: z.string().email(),
    subject: z.string().min(1),
    // A schema default proves the stored payload is the schema's output, not the raw input.
    format: z.enum(['text', 'html']).default('text'),
  }),
  handler: async ({ to }) => ({ sentTo: to }),
});

/** Options outside their range, each with the field the ValidationError must name. */
const BAD_OPTIONS: [string, EnqueueOptions][] = [
  ['priority', { priority: 5000 }],
  ['maxAttempts', { maxAttempts: 0 }],
  ['delayMs', { delayMs: -1 }],
  ['runAt', { runAt: 'not a date' }],
  ['tags', { tags: [1, 2] as unknown as string[] }],
  ['metadata', { metadata: 'user-1' as unknown as Record<string, unknown> }],
  ['queue', { queue: 'bad queue name!' }],
];

export function enqueueSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('stores a typed job with the payload its zod schema outputs', async () => {
    const client = await harness.client({ tasks: [sendEmail] });
    const { job, created } = await client.enqueue(sendEmail, { to: 'ada@example.com', subject: 'Hi' });
    assert.equal(created, true);
    assert.deepEqual(job.payload, { to: 'ada@example.com', subject: 'Hi', format: 'text' });
    assert.equal(job.task, 'email.send');
    assert.equal(job.queue, 'default');
    assert.equal(job.status, 'available');
    assert.equal(job.priority, 0);
    assert.equal(job.attempt, 0);
    assert.equal(job.maxAttempts, 4);
    const stored = await client.getJob<typeof sendEmail>(job.id);
    assert.deepEqual(stored?.payload, { to: 'ada@example.com', subject: 'Hi', format: 'text' });
    assert.equal(stored?.status, 'available');
  });

  it('rejects an invalid payload with the issues and their paths, inserting nothing', async () => {
    const client = await harness.client({ tasks: [sendEmail] });
    const invalid = { to: 'not an email', subject: '' };
    await assert.rejects(client.enqueue(sendEmail, invalid), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.code, 'JOBYARD_VALIDATION');
      assert.deepEqual(error.issues.map((issue) => issue.path).sort(), ['payload.subject', 'payload.to']);
      assert.ok(error.issues.every((issue) => issue.message.length > 0));
      return true;
    });
    // By name, the schema still applies.
    await rejectsWithIssue(client.enqueue('email.send', invalid), 'payload.to');
    assert.deepEqual(await allJobs(client), []);
  });

  it('enqueueMany stores all jobs in order, or none when one item is invalid', async () => {
    const client = await harness.client({ tasks: [sendEmail] });
    const valid = [
      { to: 'a@example.com', subject: 'one' },
      { to: 'b@example.com', subject: 'two' },
    ];
    await rejectsWithIssue(client.enqueueMany(sendEmail, [valid[0]!, { to: 'nope', subject: 'x' }, valid[1]!]), 'payloads.1.to');
    assert.deepEqual(await allJobs(client), []);

    const results = await client.enqueueMany(sendEmail, valid);
    assert.deepEqual(
      results.map((result) => [result.created, result.job.payload.to]),
      [
        [true, 'a@example.com'],
        [true, 'b@example.com'],
      ],
    );
    assert.equal((await allJobs(client)).length, 2);
  });

  it('rejects an unknown task name with UnknownTaskError', async () => {
    const client = await harness.client({ tasks: [sendEmail] });
    await assert.rejects(client.enqueue('email.sned', {}), (error: unknown) => {
      assert.ok(error instanceof UnknownTaskError);
      assert.equal(error.code, 'JOBYARD_UNKNOWN_TASK');
      return true;
    });
    await assert.rejects(client.enqueueMany('email.sned', [{}]), UnknownTaskError);
    assert.deepEqual(await allJobs(client), []);
  });

  for (const [field, options] of BAD_OPTIONS) {
    it(`rejects an out-of-range ${field} option, naming the field`, async () => {
      const client = await harness.client({ tasks: [sendEmail] });
      await rejectsWithIssue(client.enqueue(sendEmail, { to: 'a@example.com', subject: 's' }, options), field);
      assert.deepEqual(await allJobs(client), []);
    });
  }

  it('rejects malformed job ids with a ValidationError naming the id', async () => {
    const client = await harness.client();
    await rejectsWithIssue(client.getJob('not-a-uuid'), 'id');
    await rejectsWithIssue(client.cancel('123'), 'id');
    await rejectsWithIssue(client.retry(''), 'id');
    await rejectsWithIssue(client.getJob(`${uuidv7()}'; --`), 'id');
  });

  it('returns null for an unknown job and JobNotFoundError when steering one', async () => {
    const client = await harness.client();
    const unknown = uuidv7();
    assert.equal(await client.getJob(unknown), null);
    for (const action of [client.cancel(unknown), client.retry(unknown)]) {
      await assert.rejects(action, (error: unknown) => {
        assert.ok(error instanceof JobNotFoundError);
        assert.equal(error.code, 'JOBYARD_JOB_NOT_FOUND');
        return true;
      });
    }
  });

  it('deduplicates 50 concurrent enqueues with one dedup key into one job', async () => {
    const client = await harness.client({ tasks: [sendEmail] });
    const payload = { to: 'a@example.com', subject: 'welcome' };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => client.enqueue(sendEmail, payload, { dedupKey: 'welcome:a' })),
    );
    const jobs = await allJobs(client);
    assert.equal(jobs.length, 1);
    const [only] = jobs;
    assert.ok(results.every((result) => result.job.id === only?.id));
    assert.equal(results.filter((result) => result.created).length, 1);

    // Once the job is done, the key is free again.
    const completed = nextEvent(client, 'job:completed', forJob(only!.id));
    await client.start(FAST_WORKER);
    await completed;
    const again = await client.enqueue(sendEmail, payload, { dedupKey: 'welcome:a' });
    assert.equal(again.created, true);
    assert.notEqual(again.job.id, only?.id);
  });

  it('deduplicates concurrent enqueues from two clients on separate connections', async () => {
    const clients = [await harness.client({ tasks: [sendEmail] }), await harness.client({ tasks: [sendEmail], ownStore: true })];
    const payload = { to: 'a@example.com', subject: 'welcome' };
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) => clients[index % 2]!.enqueue(sendEmail, payload, { dedupKey: 'welcome:a' })),
    );
    const jobs = await allJobs(clients[0]!);
    assert.equal(jobs.length, 1);
    assert.ok(results.every((result) => result.job.id === jobs[0]?.id));
    assert.equal(results.filter((result) => result.created).length, 1);
  });

  it('maps the priority names low, normal and high to -10, 0 and 10', async () => {
    const urgent = defineTask('email.urgent', { priority: 'high', handler: () => null });
    const client = await harness.client({ tasks: [sendEmail, urgent] });
    const payload = { to: 'a@example.com', subject: 's' };
    const priorities = [];
    for (const priority of ['low', 'normal', 'high'] as const) {
      priorities.push((await client.enqueue(sendEmail, payload, { priority })).job.priority);
    }
    assert.deepEqual(priorities, [-10, 0, 10]);
    assert.equal((await client.enqueue(urgent, {})).job.priority, 10, "the task's default");
    assert.equal((await client.enqueue(urgent, {}, { priority: 'low' })).job.priority, -10, 'the option wins');
    await rejectsWithIssue(client.enqueue(sendEmail, payload, { priority: 'urgent' as 'high' }), 'priority');
  });
}
