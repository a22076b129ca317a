import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { pino } from 'pino';
import { defineTask, Jobyard, type JobyardEvents } from '../../src/core/index.js';
import type { Store, StoreNotification } from '../../src/store/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/store.js';
import { newJob } from '../conformance/fixtures.js';
import { waitForEvent } from '../helpers/event-waiter.js';
import { tempSqliteStore } from '../helpers/sqlite.js';

// Two stores on one file stand for two processes: the file watch sees any connection's commits.
let writer: Awaited<ReturnType<typeof tempSqliteStore>>;
let reader: Store;

before(async () => {
  writer = await tempSqliteStore();
  reader = await createSqliteStore({ filename: writer.filename });
});

after(async () => {
  await reader.close();
  await writer.cleanup();
});

const WAIT_MS = 10_000;

it("tells a store's subscribers of jobs another connection committed to the file", async () => {
  const heard = waitForEvent<StoreNotification>(
    (listener) => reader.subscribe(listener),
    (notification) => notification.type === 'jobs_available',
    'jobs_available from the file watch',
    WAIT_MS,
  );
  await writer.store.jobInsertMany({ jobs: [newJob(new Date(), { queue: 'elsewhere' })] });
  assert.deepEqual(await heard, { type: 'jobs_available', queue: '*' });
});

it('wakes a worker on another connection at once, long before its next poll', async () => {
  const logger = pino({ level: 'silent' });
  const ping = defineTask('watch.ping', { handler: ({ n }: { n: number }) => n + 1 });
  const producer = new Jobyard({ store: writer.store, tasks: [ping], logger });
  const consumer = new Jobyard({ store: reader, tasks: [ping], logger });
  await consumer.start({ pollIntervalMs: 3_600_000 });
  try {
    const completed = waitForEvent<JobyardEvents['job:completed']>(
      (listener) => consumer.events.on('job:completed', listener),
      () => true,
      'job:completed on the other connection',
      WAIT_MS,
    );
    const { job } = await producer.enqueue(ping, { n: 1 });
    const { job: done } = await completed;
    assert.equal(done.id, job.id);
    assert.equal(done.result, 2);
  } finally {
    await consumer.stop({ graceMs: 0 });
  }
});
