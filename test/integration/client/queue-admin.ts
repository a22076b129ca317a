import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import { sleep } from '../../../src/core/sleep.js';
import { InvalidStateError, JobNotFoundError } from '../../../src/errors/index.js';
import { forJob, type MakeStore, mustGet, nextEvent, rejectsWithIssue, useHarness, watchCalls } from './fixtures.js';

/** No poll wakes during a test: an idle worker stays idle until something happens. */
const QUIET_WORKER = { pollIntervalMs: 60_000 };

const sendMail = defineTask('mail.send', { queue: 'mail', handler: () => 'sent' });
const buildReport = defineTask('report.build', { queue: 'reports', handler: () => 'built' });

export function queueAdminSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('starts no job of a paused queue, in any process, until it is resumed', async () => {
    const admin = await harness.client({ tasks: [sendMail, buildReport] });
    const workerSide = await harness.client({ tasks: [sendMail, buildReport], ownStore: true });
    const paused = await admin.pauseQueue('mail');
    assert.equal(paused.paused, true);
    assert.ok(paused.pausedAt instanceof Date);
    const mail = (await admin.enqueue(sendMail, {})).job;
    const report = (await admin.enqueue(buildReport, {})).job;

    const reportDone = nextEvent(workerSide, 'job:completed', forJob(report.id));
    await workerSide.start({ ...QUIET_WORKER, queues: ['mail', 'reports'] });
    // The claim that took the report looked at both queues.
    await reportDone;
    assert.equal((await mustGet(admin, mail.id)).status, 'available', 'the paused queue keeps its job');

    const mailDone = nextEvent(workerSide, 'job:completed', forJob(mail.id));
    assert.deepEqual(await admin.resumeQueue('mail'), { queue: 'mail', paused: false, pausedAt: null });
    await mailDone;
  });

  it('does not poll a paused queue in a loop: an idle worker waits for a wake-up', async () => {
    const client = await harness.client({ tasks: [sendMail] });
    await client.pauseQueue('mail');
    await client.enqueue(sendMail, {});
    const claimCalls: unknown[] = [];
    const store = harness.store();
    const claim = store.jobClaim.bind(store);
    store.jobClaim = (params) => {
      claimCalls.push(params);
      return claim(params);
    };
    await client.start({ ...QUIET_WORKER, queues: ['mail'] });
    // A worker that retried at once would claim thousands of times in this while; it should once.
    await sleep(200);
    assert.ok(claimCalls.length <= 2, `${claimCalls.length} claims of a paused queue without any wake-up`);
  });

  it('hands no job enqueued into a paused queue to an idle worker of the same process', async () => {
    const client = await harness.client({ tasks: [sendMail] });
    const firstClaim = watchCalls(harness.store(), 'jobClaim').rounds(1);
    await client.start({ ...QUIET_WORKER, queues: ['mail'] });
    await firstClaim;
    await client.pauseQueue('mail');
    const { job } = await client.enqueue(sendMail, {});
    assert.equal(job.status, 'available', 'not inserted running: the queue is paused');
    assert.equal(job.leaseOwner, null);
    const done = nextEvent(client, 'job:completed', forJob(job.id));
    await client.resumeQueue('mail');
    await done;
  });

  it('lists paused queues in queueStats, a paused queue without jobs too', async () => {
    const client = await harness.client({ tasks: [sendMail] });
    await client.enqueue(sendMail, {});
    const { pausedAt } = await client.pauseQueue('empty');
    const again = await client.pauseQueue('empty');
    assert.deepEqual(again.pausedAt, pausedAt, 'pausing again keeps the first pause time');
    const stats = await client.queueStats();
    assert.deepEqual(
      stats.map(({ queue, total, paused, pausedAt: since }) => ({ queue, total, paused, since })),
      [
        { queue: 'empty', total: 0, paused: true, since: pausedAt },
        { queue: 'mail', total: 1, paused: false, since: null },
      ],
    );
    await rejectsWithIssue(client.pauseQueue('not a queue'), 'queue');
    await rejectsWithIssue(client.resumeQueue(''), 'queue');
  });

  it('deletes finished jobs only', async () => {
    const client = await harness.client({ tasks: [sendMail] });
    const waiting = (await client.enqueue(sendMail, {})).job;
    await assert.rejects(client.deleteJob(waiting.id), (error) => {
      assert.ok(error instanceof InvalidStateError);
      assert.equal(error.currentStatus, 'available');
      return true;
    });
    const cancelled = await client.cancel(waiting.id);
    const deleted = await client.deleteJob(waiting.id);
    assert.equal(deleted.id, cancelled.id);
    assert.equal(deleted.status, 'cancelled');
    assert.equal(await client.getJob(waiting.id), null);
    await assert.rejects(client.deleteJob(waiting.id), JobNotFoundError);
    await rejectsWithIssue(client.deleteJob('nope'), 'id');
  });
}
