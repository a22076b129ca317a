import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask, Jobyard } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import type { EventRecord } from '../../../src/types/index.js';
import { waitForEvent } from '../../helpers/event-waiter.js';
import { FAST_WORKER, type MakeStore, useHarness } from './fixtures.js';

const quick = defineTask('events.quick', { handler: async () => 'done' });

/** watchRecords is a Subscribe (event-waiter) to a client's watchEvents, active once `ready` resolves. */
function watchRecords(client: Jobyard) {
  let ready: Promise<unknown> = Promise.resolve();
  const subscribe = (listener: (record: EventRecord) => void) => {
    const watching = client.watchEvents(listener);
    ready = watching;
    return () => void watching.then((stop) => stop());
  };
  return { subscribe, ready: () => ready };
}

export function eventsSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it("watchEvents gives the records of this client's own jobs, and stops when told", async () => {
    const client = await harness.client({ tasks: [quick] });
    await client.start(FAST_WORKER);
    const records: EventRecord[] = [];
    const stop = await client.watchEvents((record) => records.push(record));
    const completed = waitForEvent(watchRecords(client).subscribe, (record) => record.type === 'job:completed', 'completed');
    const { job } = await client.enqueue(quick, null);
    await completed;
    stop();
    assert.deepEqual(
      records.filter((record) => record.jobId === job.id).map((record) => record.type),
      ['job:enqueued', 'job:started', 'job:completed'],
    );
    assert.equal(client.events.listenerCount('job:started'), 0, 'stopping the watch removed its listeners');
  });

  it('refuses invalid publishing options', () => {
    const store = harness.store();
    for (const options of [{ publishEvents: 'yes' }, { publishEventsIntervalMs: 0 }, { publishEventsIntervalMs: 1.5 }]) {
      assert.throws(
        () => new Jobyard({ store, ...(options as object) }),
        (error: unknown) =>
          error instanceof ValidationError && error.issues.some((issue) => issue.path === Object.keys(options)[0]),
      );
    }
  });
}

/** crossProcessEventsClientSuite runs on stores that notify other processes (see exerciseClient). */
export function crossProcessEventsClientSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('with publishEvents, the records reach the watch of a client in another process (its own store), also when it closes at once', async () => {
    const watcher = await harness.client({ tasks: [quick] });
    const { subscribe, ready } = watchRecords(watcher);
    const seen = waitForEvent(subscribe, (record) => record.type === 'job:enqueued' && record.queue === 'published', 'record');
    await ready();
    const publisher = await harness.client({ ownStore: true, tasks: [quick], publishEvents: true });
    const { job } = await publisher.enqueue(quick, null, { queue: 'published' });
    // close() sends what is pending, rather than dropping the last interval's records.
    await publisher.close();
    const record = await seen;
    assert.equal(record.jobId, job.id);
  });
}
