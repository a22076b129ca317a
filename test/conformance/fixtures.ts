import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { ClaimedJob, JobInsert, JobListFilter, JobOutcome, Store } from '../../src/store/index.js';
import type { Job, JobErrorRecord } from '../../src/types/index.js';
import type { MigrationsTable } from '../helpers/migrations-table.js';

/** FreshDatabase is one fresh, migrated store on a database of its own, and what a test may do beside it. */
export interface FreshDatabase {
  store: Store;
  /** Closes the store (and those openStore opened) and removes the database. */
  cleanup: () => Promise<void>;
  /** Opens another store on the same database, as another process would. @defaultValue none */
  openStore?: () => Promise<Store>;
  /** A way into the database's migrations table, to stage migration histories. */
  migrationsTable: MigrationsTable;
}

/** MakeStore builds one FreshDatabase. */
export type MakeStore = () => Promise<FreshDatabase>;

export const QUEUE = 'default';

/**
 * useFreshStore gives every test of the enclosing describe its own store (isolation: no test
 * sees another's jobs) and returns the accessor to call inside a test.
 */
export function useFreshStore(makeStore: MakeStore): () => Store {
  const database = useFreshDatabase(makeStore);
  return () => database().store;
}

/** useFreshDatabase is useFreshStore for tests that also reach the database otherwise (openStore, migrationsTable). */
export function useFreshDatabase(makeStore: MakeStore): () => FreshDatabase {
  let current: FreshDatabase | undefined;
  beforeEach(async () => {
    current = await makeStore();
  });
  afterEach(async () => {
    const finished = current;
    current = undefined;
    await finished?.cleanup();
  });
  return () => {
    assert.ok(current, 'the store is only available inside a test');
    return current;
  };
}

/** later returns `base` shifted by `ms` milliseconds (negative for earlier). */
export function later(base: Date, ms: number): Date {
  return new Date(base.getTime() + ms);
}

/** newJob builds a valid available JobInsert in QUEUE, due at `now`; overrides win. */
export function newJob(now: Date, overrides: Partial<JobInsert> = {}): JobInsert {
  return {
    id: uuidv7(),
    queue: QUEUE,
    task: 'test.task',
    payload: { n: 1 },
    status: 'available',
    priority: 0,
    runAt: now,
    maxAttempts: 3,
    createdAt: now,
    dedupKey: null,
    concurrencyKey: null,
    concurrencyLimit: 1,
    tags: [],
    metadata: {},
    timeoutMs: null,
    ...overrides,
  };
}

/** scheduledJob builds a job scheduled to run `delayMs` after `now`. */
export function scheduledJob(now: Date, delayMs: number, overrides: Partial<JobInsert> = {}): JobInsert {
  return newJob(now, { status: 'scheduled', runAt: later(now, delayMs), ...overrides });
}

/** insertJobs inserts jobs that must all be new and returns the stored jobs in order. */
export async function insertJobs(store: Store, jobs: JobInsert[]): Promise<Job[]> {
  const results = await store.jobInsertMany({ jobs });
  assert.equal(results.length, jobs.length);
  return results.map((result, index) => {
    assert.equal(result.created, true, `job ${index} should have been created`);
    return result.job;
  });
}

/** insertJob inserts one new job built by newJob. */
export async function insertJob(store: Store, now: Date, overrides: Partial<JobInsert> = {}): Promise<Job> {
  const [job] = await insertJobs(store, [newJob(now, overrides)]);
  assert.ok(job);
  return job;
}

export interface ClaimOptions {
  queues?: string[];
  limit?: number;
  leaseMs?: number;
  workerId?: string;
}

export const DEFAULT_LEASE_MS = 30_000;

/** claim claims from QUEUE with a generous limit unless told otherwise. */
export function claim(store: Store, now: Date, options: ClaimOptions = {}): Promise<ClaimedJob[]> {
  return store.jobClaim({
    queues: options.queues ?? [QUEUE],
    workerId: options.workerId ?? 'worker-1',
    limit: options.limit ?? 100,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    now,
  });
}

/** claimOne claims with limit 1 and asserts a job was claimed. */
export async function claimOne(store: Store, now: Date, options: ClaimOptions = {}): Promise<ClaimedJob> {
  const claimed = await claim(store, now, { ...options, limit: 1 });
  assert.equal(claimed.length, 1, 'expected exactly one claimed job');
  const [first] = claimed;
  assert.ok(first);
  return first;
}

/** settle records one outcome for a claimed job and returns whether it applied. */
export async function settle(store: Store, claimed: ClaimedJob, outcome: JobOutcome, now: Date): Promise<boolean> {
  const results = await store.jobSettleMany({ settles: [{ id: claimed.job.id, leaseToken: claimed.leaseToken, outcome }], now });
  assert.equal(results.length, 1);
  assert.equal(results[0]?.id, claimed.job.id);
  return results[0]?.applied ?? false;
}

/** errorRecord builds the error a worker reports for `attempt`. */
export function errorRecord(attempt: number, at: Date, message = 'boom'): JobErrorRecord {
  return { attempt, at: at.toISOString(), message, name: 'Error' };
}

/** mustGet reads a job that must exist. */
export async function mustGet(store: Store, id: string): Promise<Job> {
  const job = await store.jobGet({ id });
  assert.ok(job, `job ${id} should exist`);
  return job;
}

/** listAll walks every page of jobList for `filter`. */
export async function listAll(store: Store, filter: JobListFilter, pageSize = 100): Promise<Job[]> {
  const jobs: Job[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await store.jobList({ filter, limit: pageSize, ...(after === undefined ? {} : { after }) });
    assert.ok(result.jobs.length <= pageSize, 'a page never holds more than limit jobs');
    jobs.push(...result.jobs);
    if (result.nextCursor === null) return jobs;
    after = result.nextCursor;
  }
  assert.fail('jobList never returned a null cursor');
}

/** JOB_FIELDS are the fields of Job; comparisons look at these only, so stores may carry extras. */
const JOB_FIELDS = [
  'id',
  'queue',
  'task',
  'payload',
  'status',
  'priority',
  'runAt',
  'attempt',
  'maxAttempts',
  'createdAt',
  'startedAt',
  'finishedAt',
  'result',
  'errors',
  'progress',
  'progressMessage',
  'dedupKey',
  'concurrencyKey',
  'concurrencyLimit',
  'tags',
  'metadata',
  'timeoutMs',
  'leaseOwner',
  'leaseExpiresAt',
  'cancelRequested',
  'steps',
  'dependsOn',
] as const satisfies readonly (keyof Job)[];

/** jobFields projects a job onto the fields of Job for deep comparison. */
export function jobFields(job: Job): Record<string, unknown> {
  return Object.fromEntries(JOB_FIELDS.map((field) => [field, job[field]]));
}

/** expectedNewJob is the Job a freshly inserted JobInsert must read back as. */
export function expectedNewJob(insert: JobInsert): Record<string, unknown> {
  return jobFields({
    ...insert,
    attempt: 0,
    startedAt: null,
    finishedAt: null,
    result: null,
    errors: [],
    progress: null,
    progressMessage: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    steps: [],
    dependsOn: insert.dependsOn ?? [],
  });
}
