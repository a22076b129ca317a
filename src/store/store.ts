import { ValidationError } from '../errors/index.js';
import type { Job, JobErrorRecord, JobStatus, JsonValue, Schedule, ScheduleFire, ScheduleFireOutcome } from '../types/index.js';

/**
 * The Store port: the only way the engine touches a database. It is shaped like the job
 * state machine, not like SQL; every method takes one params object and returns one typed
 * result. Both stores (SQLite, PostgreSQL) pass the same conformance suite
 * (test/conformance), which is the executable specification of every rule written here.
 *
 * Time: every method that depends on "now" takes it as `now` from the caller (the client's
 * Clock), so tests can drive time and both stores agree on it.
 */
export interface Store {
  /** Human-readable name of the store kind: `sqlite` or `postgres`. */
  readonly kind: string;
  readonly capabilities: StoreCapabilities;

  /** migrate applies pending migrations once (safe when many processes start together). */
  migrate(): Promise<MigrateResult>;
  /** close releases connections and stops listeners. Idempotent. */
  close(): Promise<void>;
  /** ping checks that the database answers; throws StoreUnavailableError when it does not. */
  ping(): Promise<void>;

  /**
   * jobInsertMany inserts jobs in one transaction. A job whose `dedupKey` matches a live job
   * (not completed, failed or cancelled) is not inserted: the live one is returned with
   * `created: false`. Race-safe through a unique index. Results keep the order of `jobs`.
   * `transaction` is a store-specific handle (on PostgreSQL a `pg` client inside BEGIN) that
   * makes the insert part of the caller's transaction. A job with `lease` is inserted
   * running under it (checked by checkInsertLease), unless its queue is paused: then it is
   * inserted as if it had no lease, and its result has no `leaseToken`.
   */
  jobInsertMany(params: JobInsertManyParams): Promise<JobInsertResult[]>;

  /**
   * jobClaim moves up to `limit` due jobs (status scheduled, available or retryable with
   * runAt <= now) of the given queues that are not paused (see queuePause) to `running`, ordered by priority (high first), runAt,
   * id. It increments `attempt`, sets startedAt, the lease (owner, a fresh token, expiry =
   * now + leaseMs) and clears cancelRequested. A job with a concurrency key is claimed only
   * while fewer than its `concurrencyLimit` jobs with that key are running (across all
   * processes). Two concurrent claims never return the same job.
   */
  jobClaim(params: JobClaimParams): Promise<ClaimedJob[]>;

  /**
   * jobSettleMany records the outcome of attempts. An outcome applies only while the job is
   * `running` with the same lease token (fencing): a worker that lost its lease cannot
   * overwrite the job; such outcomes come back with `applied: false`.
   */
  jobSettleMany(params: JobSettleManyParams): Promise<JobSettleResult[]>;

  /**
   * jobLeaseRenew extends the leases of running jobs to now + leaseMs (fenced by token) and
   * reports, per job, whether the lease is still held and whether a cancel was requested.
   */
  jobLeaseRenew(params: JobLeaseRenewParams): Promise<JobLeaseRenewResult[]>;

  /** jobProgress stores progress (0..1) and an optional message; fenced by token. */
  jobProgress(params: JobProgressParams): Promise<boolean>;

  /**
   * jobRescueExpired finds running jobs whose lease expired before `now`: each gets an error
   * record "lease expired" for its attempt, and goes to `retryable` with runAt = now when
   * attempts remain, else to `failed` with finishedAt = now. Returns the rescued jobs.
   */
  jobRescueExpired(params: { now: Date; limit: number }): Promise<Job[]>;

  /** jobGet returns the job or null. */
  jobGet(params: { id: string }): Promise<Job | null>;

  /** jobList lists jobs newest first (by id) with cursor pagination. */
  jobList(params: JobListParams): Promise<JobListResult>;

  /**
   * jobCancel cancels a job: a waiting one goes to `cancelled` at once (`outcome:
   * 'cancelled'`); a running one gets cancelRequested = true (`outcome: 'requested'`) and
   * its worker aborts it. Final jobs are left as they are (`outcome: 'final'`). Null when
   * no job has the id.
   */
  jobCancel(params: { id: string; now: Date }): Promise<{ job: Job; outcome: 'cancelled' | 'requested' | 'final' } | null>;

  /**
   * jobRetry puts a failed or cancelled job back to `available` (runAt = now, errors and
   * attempts kept, maxAttempts raised by one when they were all spent). Other states are
   * left unchanged and reported with `applied: false`. Null when no job has the id.
   */
  jobRetry(params: { id: string; now: Date }): Promise<{ job: Job; applied: boolean } | null>;

  /** jobPrune deletes jobs in the given final statuses finished before `olderThan`; returns how many. */
  jobPrune(params: { olderThan: Date; statuses: JobStatus[] }): Promise<number>;

  /**
   * jobDelete deletes a finished job (completed, failed or cancelled) and returns it as it
   * was, with `deleted: true`. A job in any other status is left alone and returned with
   * `deleted: false`. Null when no job has the id. Schedule history rows naming the job keep
   * its id.
   */
  jobDelete(params: { id: string }): Promise<{ job: Job; deleted: boolean } | null>;

  /** queueStats counts jobs per queue and status (statuses with zero jobs are omitted). */
  queueStats(): Promise<QueueStatsRow[]>;

  /**
   * queuePause pauses a queue: from the moment it commits, no claim (in any process) takes a
   * job of the queue, and a leased insert (local hand-off) into it is stored `available`
   * without a lease instead. Its jobs stay, and new ones may still be inserted. A claim
   * already running when the pause commits may still start jobs. Pausing a paused queue
   * keeps its first `pausedAt`. Returns the pause. A queue needs no jobs to be paused.
   */
  queuePause(params: { queue: string; now: Date }): Promise<QueuePause>;

  /**
   * queueResume lets claims take the queue's jobs again and announces `jobs_available` for
   * it to subscribers (of every process, where the store can). False when it was not paused.
   */
  queueResume(params: { queue: string }): Promise<boolean>;

  /** queuePauses lists the paused queues by name. */
  queuePauses(): Promise<QueuePause[]>;

  /**
   * subscribe delivers notifications published by this or (with `crossProcessNotify`)
   * other processes: `jobs_available` when jobs were inserted or became due, `cancel` when
   * a running job was asked to cancel. Jobs inserted through this store (outside a caller's
   * transaction) are announced to its own subscribers as soon as they are committed, before
   * jobInsertMany resolves. Returns a function that unsubscribes.
   */
  subscribe(listener: (notification: StoreNotification) => void): () => void;

  /**
   * scheduleInsert stores a new schedule. When a schedule with the id exists (another
   * process declared it first) nothing is written and that one is returned with
   * `created: false`.
   */
  scheduleInsert(params: { schedule: Schedule }): Promise<{ schedule: Schedule; created: boolean }>;

  /**
   * scheduleUpdate applies `patch` to a schedule and sets updatedAt = now, in one
   * transaction (the patch applies to the current row, never to a stale copy). Fields not in
   * the patch (lastRunAt, createdAt and those omitted) keep their values. Null when no
   * schedule has the id.
   */
  scheduleUpdate(params: { id: string; patch: SchedulePatch; now: Date }): Promise<Schedule | null>;

  /** scheduleDelete deletes a schedule and its history; false when no schedule had the id. Its jobs stay. */
  scheduleDelete(params: { id: string }): Promise<boolean>;

  /** scheduleGet returns the schedule or null. */
  scheduleGet(params: { id: string }): Promise<Schedule | null>;

  /** scheduleList lists every schedule ordered by id. */
  scheduleList(): Promise<Schedule[]>;

  /** scheduleDue lists up to `limit` schedules that are not paused with nextRunAt <= now, earliest first. */
  scheduleDue(params: { now: Date; limit: number }): Promise<Schedule[]>;

  /**
   * scheduleFire records fire times of one schedule in one transaction:
   *
   * - With `advance`, it first moves nextRunAt from `advance.from` to `advance.to` only if
   *   nextRunAt still equals `advance.from` (compare-and-set): of many processes firing the
   *   same fire time, exactly one wins; the others get `applied: false` and nothing is
   *   written. Without `advance` the call is a manual run (run now): nextRunAt is left alone
   *   and its fires are recorded with `manual: true`.
   * - Each fire becomes one history row, unique on (schedule id, fireAt, manual): a fire time
   *   that already has a row is left out (not recorded again, no job). A manual run at the
   *   instant of a fire time of the trigger is recorded beside it, and neither replaces the
   *   other.
   * - A fire with a job enqueues it, its metadata marked with the schedule id under
   *   SCHEDULE_ID_METADATA_KEY, unless the schedule already has `maxInstances` live jobs
   *   (waiting or running jobs so marked, counting those enqueued by earlier fires of this
   *   call): then it is recorded `skipped` with maxInstancesReason, and no job is inserted.
   * - When the job's dedup key is held by a live job (any job, this schedule's or not,
   *   including one enqueued by an earlier fire of this call), nothing is inserted either: the
   *   fire is recorded `skipped` with dedupKeyHeldReason and `jobId` = the live job's id. It
   *   is not `enqueued`: that fire time produced no run of its own.
   * - A fire without a job is recorded with its given outcome and reason.
   * - lastRunAt becomes the latest fireAt that enqueued a job.
   *
   * `applied` is false also when no schedule has the id. The result lists the recorded
   * fires and the inserted jobs in the order of `fires`.
   */
  scheduleFire(params: ScheduleFireParams): Promise<ScheduleFireResult>;

  /** scheduleHistory lists a schedule's fire records, latest fire time first (at one instant the trigger's before the manual run). */
  scheduleHistory(params: { scheduleId: string; limit: number }): Promise<ScheduleFire[]>;
}

/** SCHEDULE_ID_METADATA_KEY is the metadata field that names the schedule a job was enqueued by. */
export const SCHEDULE_ID_METADATA_KEY = 'jobyardScheduleId';

/** scheduledJob marks a job as enqueued by a schedule (see SCHEDULE_ID_METADATA_KEY). */
export function scheduledJob(job: JobInsert, scheduleId: string): JobInsert {
  return { ...job, metadata: { ...job.metadata, [SCHEDULE_ID_METADATA_KEY]: scheduleId } };
}

/** maxInstancesReason is the history reason every store gives a fire skipped by max instances. */
export function maxInstancesReason(maxInstances: number): string {
  return `max instances reached (${maxInstances} live)`;
}

/** dedupKeyHeldReason is the history reason every store gives a fire skipped because a live job holds its dedup key. */
export function dedupKeyHeldReason(dedupKey: string, liveJobId: string): string {
  return `dedup key ${JSON.stringify(dedupKey)} held by live job ${liveJobId}`;
}

/** ScheduleDefinitionFields are the schedule fields a definition sets (the rest is run state and bookkeeping). */
export type ScheduleDefinitionFields = Pick<
  Schedule,
  | 'name'
  | 'task'
  | 'payload'
  | 'trigger'
  | 'paused'
  | 'misfireGraceMs'
  | 'coalesce'
  | 'maxInstances'
  | 'jitterMs'
  | 'jobOptions'
  | 'definitionHash'
>;

/** SchedulePatch holds the schedule fields an update may change: the definition's and nextRunAt. */
export type SchedulePatch = Partial<ScheduleDefinitionFields & Pick<Schedule, 'nextRunAt'>>;

/** ScheduleFireInput is one fire time to record: a job to enqueue, or a non-enqueued outcome. */
export type ScheduleFireInput =
  | { fireAt: Date; job: JobInsert }
  | { fireAt: Date; job: null; outcome: Exclude<ScheduleFireOutcome, 'enqueued'>; reason: string };

export interface ScheduleFireParams {
  scheduleId: string;
  /** Compare-and-set of nextRunAt; null for a manual run (run now), which leaves it unchanged. */
  advance: { from: Date; to: Date | null } | null;
  fires: ScheduleFireInput[];
  now: Date;
}

export interface ScheduleFireResult {
  /** False when the compare-and-set lost (another process fired) or the schedule is gone. */
  applied: boolean;
  fires: ScheduleFire[];
  jobs: Job[];
}

/** StoreCapabilities says what a store can do natively; the engine falls back otherwise. */
export interface StoreCapabilities {
  /** Notifications reach other processes (PostgreSQL LISTEN/NOTIFY); otherwise workers also poll. */
  crossProcessNotify: boolean;
  /** Enqueue can join the caller's own transaction. */
  transactionalEnqueue: boolean;
}

export interface MigrateResult {
  /** Migration versions applied by this call (empty when the schema was current). */
  applied: number[];
  /** Schema version after the call. */
  version: number;
}

/** JobInsert is one new job as the engine hands it to the store (already validated). */
export interface JobInsert {
  id: string;
  queue: string;
  task: string;
  payload: JsonValue;
  status: 'available' | 'scheduled';
  priority: number;
  runAt: Date;
  maxAttempts: number;
  createdAt: Date;
  dedupKey: string | null;
  concurrencyKey: string | null;
  concurrencyLimit: number;
  tags: string[];
  metadata: Record<string, JsonValue>;
  timeoutMs: number | null;
  /**
   * Insert the job already running under this lease (attempt 1, startedAt = createdAt, a
   * fresh token returned as JobInsertResult.leaseToken): an idle worker of the enqueuing
   * process takes its own job without a claim round trip. Only for `available` jobs without
   * a concurrency key and outside a caller's transaction (see checkInsertLease).
   */
  lease?: { owner: string; expiresAt: Date };
}

export interface JobInsertManyParams {
  jobs: JobInsert[];
  transaction?: unknown;
}

export interface JobInsertResult {
  job: Job;
  created: boolean;
  /** The lease token of a job inserted with `lease` (absent when a dedup conflict returned a live job). */
  leaseToken?: string;
}

/** insertedStatus is the status a JobInsert is stored with: `running` when inserted under a lease. */
export function insertedStatus(job: JobInsert): JobStatus {
  return job.lease === undefined ? job.status : 'running';
}

/** withoutLease is a leased JobInsert as a plain one (its queue is paused: no hand-off). */
export function withoutLease(job: JobInsert): JobInsert {
  const { lease: _refused, ...unleased } = job;
  return unleased;
}

/**
 * checkInsertLease rejects jobs that may not be inserted leased: only an `available` job
 * without a concurrency key (whose free slots only a claim may count) can, and never inside
 * a caller's transaction (a rollback would leave a job that ran but never existed).
 */
export function checkInsertLease(jobs: JobInsert[], inTransaction: boolean): void {
  const issues = jobs.flatMap((job, index) =>
    job.lease !== undefined && (inTransaction || job.status !== 'available' || job.concurrencyKey !== null)
      ? [{ path: `jobs.${index}.lease`, message: 'only an available job without a concurrency key, outside a transaction' }]
      : [],
  );
  if (issues.length > 0) throw new ValidationError('Invalid leased insert', issues);
}

export interface JobClaimParams {
  queues: string[];
  workerId: string;
  limit: number;
  leaseMs: number;
  now: Date;
}

/** ClaimedJob is a job now running under a lease; the token fences every later write. */
export interface ClaimedJob {
  job: Job;
  leaseToken: string;
}

/** JobOutcome is how an attempt ended, as the worker reports it. */
export type JobOutcome =
  /** succeeded: the result is stored and progress set to 1. */
  | { kind: 'completed'; result: JsonValue | null }
  /** failed attempt with attempts left: back to `retryable` at runAt. */
  | { kind: 'retry'; error: JobErrorRecord; runAt: Date }
  /** failed for good. */
  | { kind: 'failed'; error: JobErrorRecord }
  | { kind: 'cancelled'; error: JobErrorRecord | null }
  /** handed back without spending the attempt (graceful shutdown, snooze): attempt - 1. */
  | { kind: 'released'; runAt: Date };

export interface JobSettle {
  id: string;
  leaseToken: string;
  outcome: JobOutcome;
}

export interface JobSettleManyParams {
  settles: JobSettle[];
  now: Date;
}

export interface JobSettleResult {
  id: string;
  applied: boolean;
}

export interface JobLeaseRenewParams {
  leases: { id: string; leaseToken: string }[];
  leaseMs: number;
  now: Date;
}

export interface JobLeaseRenewResult {
  id: string;
  /** False when the lease was lost (the job was rescued, or finished elsewhere). */
  held: boolean;
  cancelRequested: boolean;
}

export interface JobProgressParams {
  id: string;
  leaseToken: string;
  progress: number;
  message: string | null;
}

export interface JobListFilter {
  queue?: string;
  task?: string;
  status?: JobStatus[];
  /** Each field must equal (JSON equality on strings, numbers, booleans). */
  metadata?: Record<string, string | number | boolean>;
  tag?: string;
  dedupKey?: string;
}

export interface JobListParams {
  filter: JobListFilter;
  /** Id of the last job of the previous page; the page holds older jobs. */
  after?: string;
  limit: number;
}

export interface JobListResult {
  jobs: Job[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface QueueStatsRow {
  queue: string;
  status: JobStatus;
  count: number;
}

/** QueuePause is a paused queue and since when. */
export interface QueuePause {
  queue: string;
  pausedAt: Date;
}

/**
 * StoreNotification is one event from `subscribe`. A `jobs_available` for queue `'*'` means
 * any queue may have jobs (sent after a listener reconnects: notifications may have been
 * missed while it was disconnected).
 */
export type StoreNotification = { type: 'jobs_available'; queue: string } | { type: 'cancel'; jobId: string };
