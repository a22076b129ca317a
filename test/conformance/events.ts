import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Store, StoreNotification } from '../../src/store/index.js';
import type { EventRecord } from '../../src/types/index.js';
import { recordEvents, waitForEvent } from '../helpers/event-waiter.js';
import { type MakeStore, useFreshDatabase } from './fixtures.js';

/** record builds a job event record; `n` tells records apart. */
function record(n: number, overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    type: 'job:progress',
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
    jobId: '01890000-0000-7000-8000-000000000000',
    queue: 'default',
    task: 'test.task',
    status: 'running',
    attempt: 1,
    progress: n / 1000,
    message: `step ${n}`,
    ...overrides,
  };
}

/** eventRecords is a Subscribe (event-waiter) to the records of the event batches `store` delivers. */
function eventRecords(store: Store): (listener: (record: EventRecord) => void) => () => void {
  return (listener) =>
    store.subscribe(
      (notification) => {
        if (notification.type === 'events') for (const event of notification.events) listener(event);
      },
      { events: true },
    );
}

/** receiveRecords keeps the records `store` delivers; `arrived` resolves once the one that `isLast` picks came. */
function receiveRecords(
  store: Store,
  isLast: (record: EventRecord, received: EventRecord[]) => boolean,
): { received: EventRecord[]; arrived: Promise<unknown> } {
  const received: EventRecord[] = [];
  const arrived = waitForEvent(
    eventRecords(store),
    (record) => {
      received.push(record);
      return isLast(record, received);
    },
    'the last record',
  );
  return { received, arrived };
}

export function eventsSuite(makeStore: MakeStore): void {
  const database = useFreshDatabase(makeStore);
  const openStore = () => {
    const open = database().openStore;
    assert.ok(open, 'the events suite needs openStore');
    return open();
  };

  it('never delivers a store its own published events', async () => {
    const store = database().store;
    const own = recordEvents(eventRecords(store));
    await store.whenSubscribed();
    await store.eventPublish({ events: [record(1)] });
    if (store.capabilities.crossProcessNotify) {
      // Notifications reach each listener in commit order: once another store's marker has
      // arrived, an echo of the earlier batch would have arrived before it.
      const marker = record(2, { type: 'job:completed' });
      const markerSeen = waitForEvent(eventRecords(store), (event) => event.type === 'job:completed', 'the marker');
      await store.whenSubscribed();
      await (await openStore()).eventPublish({ events: [marker] });
      await markerSeen;
    }
    own.stop();
    assert.deepEqual(
      own.events.filter((event) => event.type === 'job:progress'),
      [],
    );
  });
}

/**
 * crossProcessEventsSuite holds the rules of event records between stores on one database,
 * for the stores whose capabilities say crossProcessNotify (registered by exerciseStore).
 */
export function crossProcessEventsSuite(makeStore: MakeStore): void {
  const database = useFreshDatabase(makeStore);
  const openStore = () => {
    const open = database().openStore;
    assert.ok(open, 'the events suite needs openStore');
    return open();
  };

  it('delivers a batch in order to the events subscribers of another store on the database', async () => {
    const other = await openStore();
    const plain = recordEvents<StoreNotification>((listener) => other.subscribe(listener));
    const { received, arrived } = receiveRecords(other, (_, received) => received.length === 3);
    const batch = [record(1), record(2, { type: 'job:completed', progress: 1 }), record(3, { type: 'schedule:missed' })];
    await other.whenSubscribed();
    await database().store.eventPublish({ events: batch });
    await arrived;
    plain.stop();
    assert.deepEqual(received, batch);
    assert.deepEqual(
      plain.events.filter((notification) => notification.type === 'events'),
      [],
      'a subscriber that did not ask for events gets none',
    );
  });

  it('splits a batch larger than one notification and still delivers every record in order', async () => {
    const other = await openStore();
    const batch = Array.from({ length: 400 }, (_, n) => record(n, { message: `${'x'.repeat(100)} ${n} ✓` }));
    const notifications = recordEvents<StoreNotification>((listener) => other.subscribe(listener, { events: true }));
    const { received, arrived } = receiveRecords(other, (_, received) => received.length === batch.length);
    await other.whenSubscribed();
    await database().store.eventPublish({ events: batch });
    await arrived;
    notifications.stop();
    assert.deepEqual(received, batch);
    assert.ok(notifications.events.length > 1, 'the batch came in several notifications');
  });

  it('drops a record too large for a notification and delivers the others', async () => {
    const other = await openStore();
    const last = record(3);
    const { received, arrived } = receiveRecords(other, (record) => record.at === last.at);
    await other.whenSubscribed();
    await database().store.eventPublish({ events: [record(1), record(2, { message: 'y'.repeat(9000) }), last] });
    await arrived;
    assert.deepEqual(received, [record(1), last]);
  });
}
