import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import { pino } from 'pino';
import { Jobyard, type JobyardEvents, type JobyardOptions, type WorkerOptions } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import type { Store } from '../../../src/store/index.js';
import type { Clock, Job, JobStatus } from '../../../src/types/index.js';
import { waitForEvent } from '../../helpers/event-waiter.js';

/** TestDatabase is one isolated database (a temp SQLite file, a fresh PostgreSQL schema) for one test. */
export interface TestDatabase {
  /** A migrated store on the database. */
  store: Store;
  /** openStore opens another store with its own connections on the same database, as another process would. */
  openStore: () => Promise<Store>;
  /** cleanup closes `store` and deletes the database; stores from openStore are closed before it runs. */
  cleanup: () => Promise<void>;
}

/** MakeStore builds one fresh database for one test. */
export type MakeStore = () => Promise<TestDatabase>;

/** Worker options for tests: poll often so delayed jobs, retries and other stores' jobs are seen within milliseconds. */
export const FAST_WORKER: WorkerOptions = { pollIntervalMs: 20 };

/** Worker options for tests that jump a FakeClock ahead: leases long enough that no jump expires a running job's. */
export const FAKE_CLOCK_WORKER: WorkerOptions = { ...FAST_WORKER, leaseMs: 24 * 3_600_000 };

/** Upper bound of every wait in the suite: it only turns a hang into a failure, nothing is asserted about speed. */
export const WAIT_MS = 10_000;

export interface ClientOptions extends Omit<JobyardOptions, 'store'> {
  /** Open a store of its own on the test's database (another process's view) instead of sharing the first one. */
  ownStore?: boolean;
}

/** Harness hands a test its store and clients, and closes them all after the test. */
export interface Harness {
  /** store is the test's first store (clients share it unless they ask for their own). */
  store(): Store;
  /** client builds a Jobyard with a silent logger; it is stopped and closed after the test. */
  client(options?: ClientOptions): Promise<Jobyard>;
}

const silentLogger = pino({ level: 'silent' });

/** useHarness gives every test of the enclosing describe a fresh database, and disposes of its clients afterwards. */
export function useHarness(makeStore: MakeStore): Harness {
  let database: TestDatabase | undefined;
  let clients: Jobyard[] = [];
  let extraStores: Store[] = [];
  beforeEach(async () => {
    database = await makeStore();
  });
  afterEach(async () => {
    const finished = { database, clients, extraStores };
    database = undefined;
    clients = [];
    extraStores = [];
    // Stop every worker before any store closes: clients may share a store.
    await Promise.all(finished.clients.map((client) => client.stop({ graceMs: 0 })));
    await Promise.all(finished.clients.map((client) => client.close()));
    await Promise.all(finished.extraStores.map((store) => store.close()));
    await finished.database?.cleanup();
  });
  const current = (): TestDatabase => {
    assert.ok(database, 'the harness is only available inside a test');
    return database;
  };
  return {
    store: () => current().store,
    async client({ ownStore = false, ...options } = {}) {
      let store = current().store;
      if (ownStore) {
        store = await current().openStore();
        extraStores.push(store);
      }
      const client = new Jobyard({ logger: silentLogger, ...options, store });
      clients.push(client);
      return client;
    },
  };
}

/** FakeClock is a Clock that moves only when told to. */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

/** Deferred is a promise with its resolve function outside (Node 20 has no Promise.withResolvers). */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** within bounds a wait on something the test cannot observe as an event (a handler reaching a point, a stop finishing). */
export function within<T>(promise: Promise<T>, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${description}: not within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** nextEvent resolves with the next `name` event of the client that matches. Call it before the action. */
export function nextEvent<Name extends keyof JobyardEvents & string>(
  client: Jobyard,
  name: Name,
  matches: (event: JobyardEvents[Name]) => boolean = () => true,
): Promise<JobyardEvents[Name]> {
  return waitForEvent((listener) => client.events.on(name, listener), matches, `${name} event`, WAIT_MS);
}

/** forJob matches events about the job with that id. */
export function forJob(id: string): (event: { job: Job }) => boolean {
  return (event) => event.job.id === id;
}

/** countEvents resolves once `count` `name` events have been seen (e.g. one job:completed per job). */
export function countEvents<Name extends keyof JobyardEvents & string>(
  clients: Jobyard[],
  name: Name,
  count: number,
): Promise<JobyardEvents[Name][]> {
  const seen: JobyardEvents[Name][] = [];
  return waitForEvent<JobyardEvents[Name]>(
    (listener) => {
      const unsubscribes = clients.map((client) => client.events.on(name, listener));
      return () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      };
    },
    (event) => seen.push(event) >= count,
    `${count} ${name} events`,
    WAIT_MS,
  ).then(() => seen);
}

/** eventually retries `check` until it stops throwing, for state that other clients change. */
export async function eventually<T>(check: () => Promise<T>, description: string): Promise<T> {
  const giveUpAt = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > giveUpAt) throw new Error(`${description} not reached within ${WAIT_MS} ms`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** mustGet reads a job that must exist. */
export async function mustGet(client: Jobyard, id: string): Promise<Job> {
  const job = await client.getJob(id);
  assert.ok(job, `job ${id} should exist`);
  return job;
}

/** untilStatus waits until the job reaches `status` (as any client may have moved it) and returns it. */
export function untilStatus(client: Jobyard, id: string, status: JobStatus): Promise<Job> {
  return eventually(async () => {
    const job = await mustGet(client, id);
    assert.equal(job.status, status);
    return job;
  }, `job ${id} ${status}`);
}

/** Store methods a test may count calls of. */
type WatchedMethod = 'jobClaim' | 'jobLeaseRenew';

/**
 * watchCalls counts finished calls of a store method (the worker's claim round trips, its
 * lease renewals), so a test can let a worker look for jobs a few times and then check what
 * it did not take, without sleeping.
 */
export function watchCalls(store: Store, method: WatchedMethod): { rounds: (count: number) => Promise<void> } {
  const original = store[method].bind(store) as (params: unknown) => Promise<unknown>;
  const waiters = new Set<() => void>();
  const counted = async (params: unknown) => {
    const result = await original(params);
    for (const waiter of waiters) waiter();
    return result;
  };
  (store as unknown as Record<WatchedMethod, typeof counted>)[method] = counted;
  return {
    rounds: (count) =>
      new Promise<void>((resolve, reject) => {
        let left = count;
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fewer than ${count} ${method} calls within ${WAIT_MS} ms`));
        }, WAIT_MS);
        const waiter = () => {
          left -= 1;
          if (left > 0) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve();
        };
        waiters.add(waiter);
      }),
  };
}

/** rejectsWithIssue asserts a ValidationError (code JOBYARD_VALIDATION) that names the field at `path`. */
export async function rejectsWithIssue(action: Promise<unknown>, path: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.code, 'JOBYARD_VALIDATION');
    assert.ok(
      error.issues.some((issue) => issue.path === path),
      `expected an issue at "${path}", got ${JSON.stringify(error.issues)}`,
    );
    return true;
  });
}

/** allJobs lists every job of the client's store (the suites stay far below one page). */
export async function allJobs(client: Jobyard): Promise<Job[]> {
  const page = await client.listJobs({ limit: 500 });
  assert.equal(page.nextCursor, null);
  return page.jobs;
}
