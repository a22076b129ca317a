import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { beforeEach, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { defineTask } from '../../../src/core/index.js';
import { waitUntil } from '../../helpers/script-process.js';
import { EventStreamReader } from '../../helpers/sse.js';
import { ADMIN_TOKEN, assertProblem, bearer, type MakeStore, noop, useService } from './fixtures.js';

const ADMIN = bearer(ADMIN_TOKEN);

import { buildReport } from './report-task.js';

/** baseUrl makes the app listen on a free local port and returns its address. */
async function baseUrl(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/** openRawStream opens GET `path` on a plain socket and resolves once the stream's first bytes came. */
async function openRawStream(app: FastifyInstance, path: string): Promise<Socket> {
  const { port } = new URL(await baseUrl(app));
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nAuthorization: ${ADMIN.authorization}\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (!text.includes(': stream open')) return;
      socket.off('data', onData);
      resolve();
    };
    socket.on('data', onData).once('error', reject);
  });
  return socket;
}

export function eventsSuite(makeStore: MakeStore): void {
  const harness = useService(makeStore, { eventsHeartbeatMs: 50 });
  // The service's own listeners (metrics) are there from its start: count the streams' watch beyond them.
  let baseline = 0;
  beforeEach(() => {
    baseline = harness.client().events.listenerCount('job:started');
  });
  const listeners = () => harness.client().events.listenerCount('job:started') - baseline;

  it("streams a job's enqueued, started, progress and completed records in order", async () => {
    const client = harness.client();
    client.register(buildReport);
    await client.start({ queues: ['reports'], pollIntervalMs: 20 });
    const stream = await EventStreamReader.open(`${await baseUrl(harness.app())}/api/events?queue=reports`, ADMIN);
    const enqueued = await harness.call('POST', '/api/jobs', { payload: { task: 'report.build', payload: {} } });
    assert.equal(enqueued.status, 201, enqueued.raw);
    const jobId = enqueued.body.id;
    await stream.next((message) => message.event === 'job:completed', 'job:completed');
    await stream.close();
    const records = stream.records().filter((record) => record.jobId === jobId);
    // An idle worker of this client may take the job as it is inserted: it is then stored running.
    const handedOff = records[0]?.status === 'running';
    assert.deepEqual(
      records.map(({ type, status, attempt, progress, message }) => ({ type, status, attempt, progress, message })),
      [
        handedOff
          ? { type: 'job:enqueued', status: 'running', attempt: 1, progress: undefined, message: undefined }
          : { type: 'job:enqueued', status: 'available', attempt: 0, progress: undefined, message: undefined },
        { type: 'job:started', status: 'running', attempt: 1, progress: undefined, message: undefined },
        { type: 'job:progress', status: 'running', attempt: 1, progress: 0.5, message: 'half way' },
        { type: 'job:progress', status: 'running', attempt: 1, progress: 1, message: 'written' },
        { type: 'job:completed', status: 'completed', attempt: 1, progress: undefined, message: undefined },
      ],
    );
    for (const record of records) {
      assert.equal(record.queue, 'reports');
      assert.equal(record.task, 'report.build');
      assert.ok(!Number.isNaN(Date.parse(record.at)), `a timestamp in ${JSON.stringify(record)}`);
    }
    assert.deepEqual(
      stream.messages.map((message) => message.id),
      stream.messages.map((_, index) => String(index + 1)),
      'ids count the messages of the stream from 1',
    );
    assert.equal(
      stream.messages.find((message) => message.event === 'job:enqueued')?.data.startsWith('{"type":"job:enqueued"'),
      true,
    );
  });

  it('sends failures with their error message and schedule fires with the schedule and fire time', async () => {
    const client = harness.client();
    client.register(
      defineTask('always.fails', {
        queue: 'failing',
        maxAttempts: 1,
        handler: async () => {
          throw new Error('the printer is on fire');
        },
      }),
    );
    await client.start({ queues: ['failing'], pollIntervalMs: 20 });
    const stream = await EventStreamReader.open(`${await baseUrl(harness.app())}/api/events?queue=failing&queue=other`, ADMIN);
    await client.enqueue('always.fails', null);
    const failed = JSON.parse((await stream.next((message) => message.event === 'job:failed', 'job:failed')).data);
    assert.equal(failed.error, 'the printer is on fire');
    assert.equal(failed.status, 'failed');
    await harness
      .scheduler()
      .schedule('nightly-noop', { task: noop, payload: null, trigger: { kind: 'every', everyMs: 3_600_000 } });
    assert.equal((await harness.call('POST', '/api/schedules/nightly-noop/run')).status < 300, true);
    const fired = JSON.parse((await stream.next((message) => message.event === 'schedule:fired', 'schedule:fired')).data);
    assert.equal(fired.scheduleId, 'nightly-noop');
    assert.equal(fired.manual, true);
    assert.equal(fired.queue, 'other');
    assert.ok(!Number.isNaN(Date.parse(fired.fireAt)));
    await stream.close();
  });

  it('filters by queue, by job id and by type', async () => {
    const client = harness.client();
    const url = `${await baseUrl(harness.app())}/api/events`;
    const later = await client.enqueue('noop', null, { delayMs: 3_600_000 });
    const byQueue = await EventStreamReader.open(`${url}?queue=other`, ADMIN);
    const byJob = await EventStreamReader.open(`${url}?jobId=${later.job.id.toUpperCase()}`, ADMIN);
    const byType = await EventStreamReader.open(`${url}?type=job:cancelled&type=job:failed`, ADMIN);
    // Noise each filter must hold back, sent before what each stream waits for.
    await client.enqueue('email.send', { to: 'ada@example.com' });
    await client.enqueue('noop', null, { delayMs: 3_600_000 });
    await client.cancel(later.job.id);
    for (const stream of [byQueue, byJob, byType]) {
      await stream.next((message) => message.event === 'job:cancelled', 'job:cancelled');
      await stream.close();
    }
    assert.deepEqual(
      byQueue.records().map((record) => [record.type, record.queue]),
      [
        ['job:enqueued', 'other'],
        ['job:cancelled', 'other'],
      ],
    );
    assert.deepEqual(
      byJob.records().map((record) => [record.type, record.jobId]),
      [['job:cancelled', later.job.id]],
    );
    assert.deepEqual(
      byType.records().map((record) => record.type),
      ['job:cancelled'],
    );
  });

  it('answers bad filters with a 400 problem before any stream starts', async () => {
    for (const query of ['queue=not%20a%20queue!', 'jobId=42', 'type=job:exploded', 'type=job:started&type=nope', 'since=1']) {
      assertProblem(await harness.call('GET', `/api/events?${query}`), 400);
    }
    assert.equal(listeners(), 0, 'no watch was left behind');
  });

  it('stops watching when its clients disconnect', async () => {
    const url = `${await baseUrl(harness.app())}/api/events`;
    assert.equal(listeners(), 0);
    const first = await EventStreamReader.open(url, ADMIN);
    const second = await EventStreamReader.open(`${url}?queue=other`, ADMIN);
    assert.equal(listeners(), 1, 'one watch serves every stream');
    await first.close();
    await harness.client().enqueue('noop', null);
    await second.next((message) => message.event === 'job:enqueued', 'a record after the other stream left');
    assert.equal(listeners(), 1);
    await second.close();
    await waitUntil(
      () => listeners() === 0,
      () => `${listeners()} listeners left`,
      5_000,
    );
  });

  it('sends heartbeats, and ends its streams when the server closes', async () => {
    const stream = await EventStreamReader.open(`${await baseUrl(harness.app())}/api/events`, ADMIN);
    await waitUntil(
      () => stream.comments.includes('heartbeat'),
      () => `comments: ${stream.comments}`,
      5_000,
    );
    await harness.app().close();
    await stream.ended;
    assert.equal(harness.client().events.listenerCount('job:started'), 0, 'the closed service left no listener behind');
  });

  it('drops records a slow client cannot take and says how many', async () => {
    const client = harness.client();
    const { job } = await client.enqueue('noop', null, { delayMs: 3_600_000 });
    const stream = await EventStreamReader.open(`${await baseUrl(harness.app())}/api/events?type=job:progress`, ADMIN);
    const message = 'm'.repeat(1000);
    const total = 20_000;
    // One synchronous burst: far more than a socket buffer holds before the client reads.
    for (let index = 0; index < total; index++) client.events.emit('job:progress', { job, progress: index / total, message });
    const dropped = await stream.next((message) => message.event === 'dropped', 'a dropped message');
    assert.equal(listeners(), 1, 'a slow client is not disconnected for a burst');
    await stream.close();
    const received = stream.messages.filter((message) => message.event === 'job:progress').length;
    const count = JSON.parse(dropped.data).count;
    assert.ok(count > 0);
    assert.equal(received + count, total, 'every record was either sent or counted as dropped');
  });

  it('closes the stream of a client that stops reading', async () => {
    const { job } = await harness.client().enqueue('noop', null, { delayMs: 3_600_000 });
    const socket = await openRawStream(harness.app(), '/api/events');
    socket.pause();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const message = 'm'.repeat(1000);
    // Bursts until the socket buffers on both ends are full: from then on the stream stays
    // blocked, and after two heartbeats it is closed.
    await waitUntil(
      () => {
        for (let index = 0; index < 100; index++) harness.client().events.emit('job:progress', { job, progress: 0, message });
        return listeners() === 0;
      },
      () => 'the blocked stream is still open',
      20_000,
      1,
    );
    socket.resume();
    await closed;
  });
}
