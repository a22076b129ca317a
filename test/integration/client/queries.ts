import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask, type Jobyard, type ListJobsOptions } from '../../../src/core/index.js';
import { UnrecoverableError } from '../../../src/errors/index.js';
import { JOB_STATUSES, type JobStatus } from '../../../src/types/index.js';
import {
  allJobs,
  FAKE_CLOCK_WORKER,
  FakeClock,
  forJob,
  type MakeStore,
  nextEvent,
  rejectsWithIssue,
  useHarness,
} from './fixtures.js';

const buildReport = defineTask('report.build', { queue: 'reports', handler: () => 'built' });
const sendMail = defineTask('mail.send', { queue: 'mail', handler: () => 'sent' });
const failMail = defineTask('mail.bounce', {
  queue: 'mail',
  handler: (): never => {
    throw new UnrecoverableError('mailbox gone');
  },
});

/** Five jobs across two queues and tasks, with metadata, tags and three statuses; named for the assertions. */
async function seedJobs(client: Jobyard) {
  const reportU1 = (await client.enqueue(buildReport, {}, { metadata: { user_id: 'u1', project_id: 7 }, tags: ['nightly'] })).job;
  const reportU2 = (await client.enqueue(buildReport, {}, { metadata: { user_id: 'u2', project_id: 7 }, tags: ['adhoc'] })).job;
  const mailU1 = (await client.enqueue(sendMail, {}, { metadata: { user_id: 'u1', urgent: true }, tags: ['nightly', 'adhoc'] }))
    .job;
  const mailLater = (await client.enqueue(sendMail, {}, { delayMs: 60_000 })).job;
  const mailCancelled = (await client.enqueue(sendMail, {})).job;
  await client.cancel(mailCancelled.id);
  return { reportU1, reportU2, mailU1, mailLater, mailCancelled };
}

function countsOf(partial: Partial<Record<JobStatus, number>>): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((status) => [status, partial[status] ?? 0])) as Record<JobStatus, number>;
}

export function queriesSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('filters listJobs by queue, task, status, metadata and tag, newest first', async () => {
    const client = await harness.client({ tasks: [buildReport, sendMail] });
    const { reportU1, reportU2, mailU1, mailLater, mailCancelled } = await seedJobs(client);
    const ids = async (options: ListJobsOptions) => (await client.listJobs(options)).jobs.map((job) => job.id);

    assert.deepEqual(await ids({}), [mailCancelled.id, mailLater.id, mailU1.id, reportU2.id, reportU1.id]);
    assert.deepEqual(await ids({ queue: 'mail' }), [mailCancelled.id, mailLater.id, mailU1.id]);
    assert.deepEqual(await ids({ task: 'report.build' }), [reportU2.id, reportU1.id]);
    assert.deepEqual(await ids({ status: 'scheduled' }), [mailLater.id]);
    assert.deepEqual(await ids({ status: ['cancelled', 'scheduled'] }), [mailCancelled.id, mailLater.id]);
    assert.deepEqual(await ids({ metadata: { user_id: 'u1' } }), [mailU1.id, reportU1.id]);
    assert.deepEqual(await ids({ metadata: { user_id: 'u1', project_id: 7 } }), [reportU1.id]);
    assert.deepEqual(await ids({ metadata: { urgent: true } }), [mailU1.id]);
    assert.deepEqual(await ids({ metadata: { project_id: '7' } }), [], 'the string "7" is not the number 7');
    assert.deepEqual(await ids({ tag: 'nightly' }), [mailU1.id, reportU1.id]);
    assert.deepEqual(await ids({ tag: 'adhoc' }), [mailU1.id, reportU2.id]);
    assert.deepEqual(await ids({ queue: 'mail', tag: 'adhoc', status: 'available' }), [mailU1.id]);
    assert.deepEqual(await ids({ queue: 'nowhere' }), []);

    await rejectsWithIssue(client.listJobs({ status: 'sleeping' as JobStatus }), 'status');
    await rejectsWithIssue(client.listJobs({ limit: 0 }), 'limit');
    await rejectsWithIssue(client.listJobs({ cursor: 'page-2' }), 'cursor');
  });

  it('pages through listJobs with a cursor, without gaps or repeats', async () => {
    const client = await harness.client({ tasks: [sendMail, buildReport] });
    const mails = await client.enqueueMany(
      sendMail,
      Array.from({ length: 7 }, () => ({})),
    );
    await client.enqueue(buildReport, {});
    const newestFirst = mails.map((result) => result.job.id).reverse();

    const pages: string[][] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await client.listJobs({ queue: 'mail', limit: 3, cursor });
      pages.push(page.jobs.map((job) => job.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
      assert.ok(pages.length < 10, 'pagination ends');
    }
    assert.deepEqual(
      pages.map((page) => page.length),
      [3, 3, 1],
    );
    assert.deepEqual(pages.flat(), newestFirst);
  });

  it('counts jobs per queue and status in queueStats', async () => {
    const client = await harness.client({ tasks: [buildReport, sendMail] });
    assert.deepEqual(await client.queueStats(), []);
    await seedJobs(client);
    assert.deepEqual(await client.queueStats(), [
      { queue: 'mail', counts: countsOf({ available: 1, scheduled: 1, cancelled: 1 }), total: 3, paused: false, pausedAt: null },
      { queue: 'reports', counts: countsOf({ available: 2 }), total: 2, paused: false, pausedAt: null },
    ]);
  });

  it('prunes finished jobs older than the cutoff, only in the given statuses', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const client = await harness.client({ tasks: [sendMail, failMail], clock });
    const completed = (await client.enqueue(sendMail, {})).job;
    const failed = (await client.enqueue(failMail, {})).job;
    const done = Promise.all([
      nextEvent(client, 'job:completed', forJob(completed.id)),
      nextEvent(client, 'job:failed', forJob(failed.id)),
    ]);
    await client.start({ ...FAKE_CLOCK_WORKER, queues: ['mail'] });
    await done;
    const cancelledEarly = (await client.enqueue(sendMail, {}, { queue: 'idle' })).job;
    await client.cancel(cancelledEarly.id);

    clock.advance(3_600_000);
    const cancelledLate = (await client.enqueue(sendMail, {}, { queue: 'idle' })).job;
    await client.cancel(cancelledLate.id);
    const waiting = (await client.enqueue(sendMail, {}, { queue: 'idle' })).job;
    const remaining = async () => (await allJobs(client)).map((job) => job.id).sort();

    assert.equal(await client.prune({ olderThan: 30 * 60_000, statuses: ['completed'] }), 1);
    assert.deepEqual(await remaining(), [failed.id, cancelledEarly.id, cancelledLate.id, waiting.id].sort());

    assert.equal(await client.prune({ olderThan: new Date(start.getTime() + 30 * 60_000) }), 2);
    assert.deepEqual(await remaining(), [cancelledLate.id, waiting.id].sort());

    await rejectsWithIssue(client.prune({ olderThan: 0, statuses: ['available'] }), 'statuses');
    await rejectsWithIssue(client.prune({ olderThan: 'yesterday' as unknown as Date }), 'olderThan');
    assert.deepEqual(await remaining(), [cancelledLate.id, waiting.id].sort());
  });
}
