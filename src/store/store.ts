import { InvalidStateError, ValidationError } from '../errors/index.js';
import {
  type ApiToken,
  type AuditEntry,
  type AuditEntryInput,
  type AuditOutcome,
  type EventRecord,
  isRole,
  type Job,
  type JobErrorRecord,
  type JobStatus,
  type JobStep,
  type JsonValue,
  type ParentFailurePolicy,
  type Role,
  type Schedule,
  type ScheduleFire,
  type ScheduleFireOutcome,
} from '../types/index.js';

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

  /**
   * migrate applies every migration the store lists that the database has not recorded, in
   * version order, each once (safe when many processes start together), including versions
   * below ones already recorded (branches merge migrations out of order). Throws
   * SchemaTooNewError, applying nothing, when the database recorded a version the store does
   * not list.
   */
  migrate(): Promise<MigrateResult>;
  /** close releases connections and stops listeners. Idempotent. */
  close(): Promise<void>;
  /** ping checks that the database answers; throws StoreUnavailableError when it does not. */
  ping(): Promise<void>;
  /**
   * schemaVersion compares the migrations the database recorded with those this code lists
   * (see SchemaVersion), in one cheap read that takes no lock: readiness checks call it.
   */
  schemaVersion(): Promise<SchemaVersion>;

  /**
   * jobInsertMany inserts jobs in one transaction. A job whose `dedupKey` matches a live job
   * (not completed, failed or cancelled) is not inserted: the live one is returned with
   * `created: false`. Race-safe through a unique index. Results keep the order of `jobs`.
   * `transaction` is a store-specific handle (on PostgreSQL a `pg` client inside BEGIN) that
   * makes the insert part of the caller's transaction. A job with `lease` is inserted
   * running under it (checked by checkInsertLease), unless its queue is paused: then it is
   * inserted as if it had no lease, and its result has no `leaseToken`.
   *
   * A job with `dependsOn` (parents: jobs in the store or in the same call) is stored
   * `scheduled` at PARENTS_PENDING_RUN_AT, waiting for the parents that are not completed
   * yet (see linkParents for the rules and errors); once none is left it is due at once.
   * When a parent completes, each waiting child has one parent less to wait for, and is due
   * at the parent's finishedAt when it was the last. When a parent fails for good or is
   * cancelled, children with `onParentFailure: 'cancel'` are cancelled with an error record
   * naming the parent (and so are their own children, in turn); children with `'run'` count
   * it as done. Parents and children commit together: all or nothing.
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
   * jobStepSave records the state of one durable step of a running job, fenced by token:
   * it replaces the job's step of the same name, or appends it after the others. False when
   * the lease is no longer held (nothing is written).
   */
  jobStepSave(params: JobStepSaveParams): Promise<boolean>;

  /**
   * jobRescueExpired finds running jobs whose lease expired before `now`: each gets an error
   * record "lease expired" for its attempt, and goes to `retryable` with runAt = now when
   * attempts remain, else to `failed` with finishedAt = now. Returns the rescued jobs.
   */
  jobRescueExpired(params: { now: Date; limit: number }): Promise<Job[]>;

  /** jobGet returns the job or null. */
  jobGet(params: { id: string }): Promise<Job | null>;

  /** jobParents returns the parents of a job (its `dependsOn`) in that order; pruned parents are left out. */
  jobParents(params: { id: string }): Promise<Job[]>;

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
   * jobHealth reports, in two indexed reads, what a health check of job processing needs:
   * the running jobs started before `stuckBefore` (oldest start first, at most `stuckLimit`
   * of them, and how many there are in all), and how many jobs reached each final status
   * at or after `finishedSince`. Reads only running jobs and the finished ones of the
   * window, never the whole history.
   */
  jobHealth(params: JobHealthParams): Promise<JobHealth>;

  /**
   * subscribe delivers notifications published by this or (with `crossProcessNotify`)
   * other processes: `jobs_available` when jobs were inserted or became due, `cancel` when
   * a running job was asked to cancel. Jobs inserted through this store (outside a caller's
   * transaction) are announced to its own subscribers as soon as they are committed, before
   * jobInsertMany resolves. With `options.events`, the listener also gets the `events`
   * batches that other stores published with eventPublish (never this store's own); a store
   * listens for them only while such a subscriber exists. Returns a function that
   * unsubscribes.
   */
  subscribe(listener: (notification: StoreNotification) => void, options?: SubscribeOptions): () => void;

  /**
   * whenSubscribed resolves once the current subscribers receive what is published from
   * then on (on PostgreSQL: once LISTEN is active for the channels they asked for; at once
   * where delivery is in process). It also resolves when the listener could not connect
   * (it keeps retrying): it bounds a wait, it does not promise delivery.
   */
  whenSubscribed(): Promise<void>;

  /**
   * eventPublish sends a batch of event records to the `events` subscribers of the other
   * stores on the same database (other processes), in order, and not to this store's own
   * subscribers (its process has them already). Best effort and at most once: records are
   * lost when the database is unreachable or a listener is disconnected, and a record too
   * large for one notification is dropped. Resolves once the batch was handed to the
   * database. A store without `crossProcessNotify` has no one to send to and drops the batch.
   */
  eventPublish(params: { events: EventRecord[] }): Promise<void>;

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

  /**
   * rateLimitTake takes `cost` units (default 1) from the rate limit `key`, atomically across
   * every process sharing the database; see RateLimitTakeParams for the rule. A refused take
   * spends nothing. Keys are independent and need no declaration: the first take creates one.
   * Throws ValidationError for a key, limit, window or cost outside the bounds of
   * checkRateLimitTake.
   */
  rateLimitTake(params: RateLimitTakeParams): Promise<RateLimitTakeResult>;

  /**
   * rateLimitPrune deletes the keys that are whole again at `now` (resetAt <= now): such a
   * key answers the next take exactly as a key never used, so nothing is lost. Returns how many.
   */
  rateLimitPrune(params: { now: Date }): Promise<number>;

  /**
   * auditAppend records one audit entry and returns it with its id, which is greater than
   * the id of every entry recorded before it. There is no way to change an entry: the port
   * has no update, and the stores' tables refuse UPDATE.
   */
  auditAppend(params: { entry: AuditEntryInput }): Promise<AuditEntry>;

  /** auditList lists audit entries newest first (by id) with filters and cursor pagination. */
  auditList(params: AuditListParams): Promise<AuditListResult>;

  /** auditPrune deletes the entries recorded before `olderThan` (by `at`); returns how many. */
  auditPrune(params: { olderThan: Date }): Promise<number>;

  /**
   * tokenInsert stores a new API token, its secret only as `secretHash`. Refuses, writing
   * nothing, a token that checkApiTokenInsert rejects (ValidationError) and a name that a live
   * (unrevoked) token already has (TokenNameTakenError, race-safe through a unique index on
   * live names). A revoked token's name may be given again.
   */
  tokenInsert(params: { token: ApiTokenInsert }): Promise<ApiToken>;

  /** tokenFindByHash returns the live (unrevoked) token whose secret hashes to `secretHash`, or null. */
  tokenFindByHash(params: { secretHash: string }): Promise<ApiToken | null>;

  /** tokenList lists API tokens oldest first (createdAt, then id); revoked ones only with `includeRevoked`. */
  tokenList(params: { includeRevoked: boolean }): Promise<ApiToken[]>;

  /**
   * tokenRevoke sets revokedAt = now on a live token (`applied: true`); from then on
   * tokenFindByHash no longer finds it. A token already revoked is returned unchanged
   * (`applied: false`). Null when no token has the id.
   */
  tokenRevoke(params: { id: string; now: Date }): Promise<{ token: ApiToken; applied: boolean } | null>;

  /**
   * tokenMarkUsed records that a token authenticated a request at `now`: lastUsedAt becomes
   * `now` unless it is already later. The caller decides how often to call it (it is a write).
   */
  tokenMarkUsed(params: { id: string; now: Date }): Promise<void>;
}

/** ApiTokenInsert is a new API token as the store keeps it: the SHA-256 of its secret, never the secret. */
export interface ApiTokenInsert {
  id: string;
  name: string;
  role: Role;
  /** Lower-case hex SHA-256 of the secret (64 characters). */
  secretHash: string;
  createdAt: Date;
}

/** API_TOKEN_NAME_PATTERN is the shape of a token name: 1-128 of letters, digits and _ . : - / @ */
export const API_TOKEN_NAME_PATTERN = /^[A-Za-z0-9_.:\-/@]{1,128}$/;

const SECRET_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** checkApiTokenInsert rejects a token with a malformed id, name, role or secret hash (ValidationError). */
export function checkApiTokenInsert(token: ApiTokenInsert): void {
  const issues: { path: string; message: string }[] = [];
  if (typeof token.id !== 'string' || token.id.length === 0 || token.id.length > 128) {
    issues.push({ path: 'id', message: 'expected a string of 1-128 characters' });
  }
  if (typeof token.name !== 'string' || !API_TOKEN_NAME_PATTERN.test(token.name)) {
    issues.push({ path: 'name', message: 'expected 1-128 characters of letters, digits and _ . : - / @' });
  }
  if (!isRole(token.role)) issues.push({ path: 'role', message: 'expected viewer, operator or admin' });
  if (typeof token.secretHash !== 'string' || !SECRET_HASH_PATTERN.test(token.secretHash)) {
    issues.push({ path: 'secretHash', message: 'expected a lower-case hex SHA-256 (64 characters)' });
  }
  if (!(token.createdAt instanceof Date) || Number.isNaN(token.createdAt.getTime())) {
    issues.push({ path: 'createdAt', message: 'expected a valid Date' });
  }
  if (issues.length > 0) throw new ValidationError('Invalid API token', issues);
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
  /** Migration versions applied by this call, ascending (empty when the schema was current). */
  applied: number[];
  /** Schema version after the call: the highest version recorded. */
  version: number;
}

/**
 * SchemaVersion compares the database's schema with the code's. It is current when both
 * `pending` and `unknown` are empty; the version numbers alone cannot tell, since migrations
 * may be recorded out of order.
 */
export interface SchemaVersion {
  /** Highest migration applied to the database; 0 when it was never migrated. */
  applied: number;
  /** Highest migration this code knows. */
  expected: number;
  /** Migrations this code lists that the database has not recorded, ascending: `migrate()` applies them. */
  pending: number[];
  /** Migrations the database recorded that this code does not list, ascending: a newer jobyard migrated it. */
  unknown: number[];
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
  /** Parent job ids: the job waits for them (see Store.jobInsertMany). Empty or absent for none. */
  dependsOn?: string[];
  /** What a parent that fails for good or is cancelled does to the job. @defaultValue `'cancel'` */
  onParentFailure?: ParentFailurePolicy;
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

/**
 * PARENTS_PENDING_RUN_AT is the runAt of a job that waits for parents: far enough in the
 * future that no claim reaches it, which keeps the claim free of any dependency check.
 */
export const PARENTS_PENDING_RUN_AT = new Date('9999-01-01T00:00:00.000Z');

/** ParentLink is how one new child job is linked to its parents, as linkParents worked it out. */
export interface ParentLink {
  childId: string;
  parentIds: string[];
  onParentFailure: ParentFailurePolicy;
  /** Parents not completed yet (nor failed or cancelled, for a child that runs anyway). */
  waitingParents: number;
}

/**
 * linkParents works out, for the newly inserted jobs that have parents, how many parents
 * each waits for, from the parents' statuses as the store read them (under a lock that
 * keeps them from changing until commit). Throws ValidationError when a parent does not
 * exist and InvalidStateError when one already failed or was cancelled and the child would
 * be cancelled for it: the caller rolls back, nothing is inserted.
 */
export function linkParents(children: JobInsert[], parentStatuses: ReadonlyMap<string, JobStatus>): ParentLink[] {
  const unknown = new Set<string>();
  const links: ParentLink[] = [];
  for (const child of children) {
    const parentIds = child.dependsOn ?? [];
    const onParentFailure = child.onParentFailure ?? 'cancel';
    let waitingParents = 0;
    for (const parentId of parentIds) {
      const status = parentStatuses.get(parentId);
      if (status === undefined) unknown.add(parentId);
      else if (status === 'failed' || status === 'cancelled') {
        if (onParentFailure === 'cancel') {
          throw new InvalidStateError(`Parent job ${parentId} is already ${status}: job ${child.id} would never run`, status);
        }
      } else if (status !== 'completed') waitingParents += 1;
    }
    links.push({ childId: child.id, parentIds, onParentFailure, waitingParents });
  }
  if (unknown.size > 0) {
    throw new ValidationError('Unknown parent jobs, nothing enqueued', [
      ...[...unknown].slice(0, 20).map((id) => ({ path: 'dependsOn', message: `no job has id ${id}` })),
    ]);
  }
  return links;
}

/**
 * checkParents rejects jobs with parents that are not stored as waiting for them: they must
 * be `scheduled` at PARENTS_PENDING_RUN_AT, not leased, and not their own parent.
 */
export function checkParents(jobs: JobInsert[]): void {
  const issues = jobs.flatMap((job, index) =>
    job.dependsOn !== undefined &&
    job.dependsOn.length > 0 &&
    (job.status !== 'scheduled' ||
      job.runAt.getTime() !== PARENTS_PENDING_RUN_AT.getTime() ||
      job.lease !== undefined ||
      job.dependsOn.includes(job.id))
      ? [
          {
            path: `jobs.${index}.dependsOn`,
            message: 'a job with parents is inserted scheduled at PARENTS_PENDING_RUN_AT, unleased, not its own parent',
          },
        ]
      : [],
  );
  if (issues.length > 0) throw new ValidationError('Invalid insert of jobs with parents', issues);
}

/** isDueOnInsert tells whether a newly inserted job may be claimed at once: available, or a child with no parent left to wait for. */
export function isDueOnInsert(job: Job): boolean {
  return job.status === 'available' || (job.dependsOn.length > 0 && job.runAt.getTime() < PARENTS_PENDING_RUN_AT.getTime());
}

/** hasParents tells whether a job to insert waits for parents. */
export function hasParents(job: JobInsert): boolean {
  return job.dependsOn !== undefined && job.dependsOn.length > 0;
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

export interface JobStepSaveParams {
  id: string;
  leaseToken: string;
  step: JobStep;
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

export interface JobHealthParams {
  /** Running jobs that started before this are reported as stuck. */
  stuckBefore: Date;
  /** Most stuck jobs listed (stuckCount still counts them all). */
  stuckLimit: number;
  /** Start of the window whose finished jobs are counted. */
  finishedSince: Date;
}

/** StuckJob is a job running since before the stuck threshold. */
export interface StuckJob {
  id: string;
  queue: string;
  task: string;
  attempt: number;
  startedAt: Date;
  /** The worker holding its lease. */
  leaseOwner: string | null;
}

export interface JobHealth {
  /** Oldest start first, at most `stuckLimit`. */
  stuck: StuckJob[];
  /** How many running jobs started before `stuckBefore`. */
  stuckCount: number;
  /** Jobs that reached each final status in the window. */
  finished: { completed: number; failed: number; cancelled: number };
}

/** SubscribeOptions say which notifications a subscriber wants beyond `jobs_available` and `cancel`. */
export interface SubscribeOptions {
  /** Also deliver the `events` batches other stores publish with eventPublish. @defaultValue false */
  events?: boolean;
}

/**
 * StoreNotification is one event from `subscribe`. A `jobs_available` for queue `'*'` means
 * any queue may have jobs (sent after a listener reconnects: notifications may have been
 * missed while it was disconnected). `events` carries a batch of another store's
 * eventPublish, for subscribers that asked for them.
 */
export type StoreNotification =
  | { type: 'jobs_available'; queue: string }
  | { type: 'cancel'; jobId: string }
  | { type: 'events'; events: EventRecord[] };

/**
 * RateLimitTakeParams ask for `cost` units of the rate limit `key`, which allows `limit`
 * units per `windowMs`. The rule is GCRA (the generic cell rate algorithm), a token bucket
 * kept as one time per key:
 *
 * - A unit comes back every `interval` = ceil(windowMs / limit) ms; the bucket holds `limit`
 *   units, so a key unused for `limit * interval` ms (the window, rounded up by under `limit`
 *   ms when it does not divide) is whole again.
 * - The store keeps `resetAt`, the time the key is whole again (GCRA's theoretical arrival
 *   time). A take at `now` starts from max(resetAt, now) and would move it `cost * interval`
 *   later; it is allowed when that is at most `limit * interval` after now. Allowed, resetAt
 *   moves; refused, nothing is written, so a caller who keeps knocking is not locked out longer.
 * - So `limit` takes at once pass and the next is refused for `interval`; afterwards one more
 *   passes per interval. Unlike a fixed window there is no double burst at a window edge;
 *   unlike a sliding log, a span of `windowMs` may hold up to twice `limit` takes when the
 *   first `limit` came at its start (the bucket refills while the span runs).
 * - `cost` 0 spends nothing and reports the state (a peek). The same key taken with another
 *   limit or window is judged by the numbers of each call against the one stored time.
 */
export interface RateLimitTakeParams {
  /** Names the limited thing, e.g. `http:jobs.enqueue:principal:key_1`; 1-1024 characters. */
  key: string;
  /** Units per window; integer 1-1,000,000. */
  limit: number;
  /** The window in ms; integer 1 ms to 100 years. */
  windowMs: number;
  /** Units to take; integer 0 to `limit`. @defaultValue 1 */
  cost?: number;
  now: Date;
}

/** RateLimitTakeResult says whether a take was allowed and the key's state after it. */
export interface RateLimitTakeResult {
  allowed: boolean;
  /** The limit of the call. */
  limit: number;
  /** Units that could still be taken at once after this call (0 when the bucket is empty). */
  remaining: number;
  /** When every unit is back (now when none is spent). */
  resetAt: Date;
  /** 0 when allowed; otherwise how long until the same take would be allowed, in ms. */
  retryAfterMs: number;
}

/** Bounds of rate limit calls, so that every store computes them exactly in 64-bit integers and doubles. */
export const RATE_LIMIT_BOUNDS = { keyLength: 1024, limit: 1_000_000, windowMs: 100 * 365 * 24 * 3600 * 1000 } as const;

/** checkRateLimitTake validates a take (ValidationError naming each bad field) and returns it with `cost` filled in. */
export function checkRateLimitTake(params: RateLimitTakeParams): Required<RateLimitTakeParams> {
  const { key, limit, windowMs, cost = 1, now } = params;
  const issues: { path: string; message: string }[] = [];
  const isInteger = (value: unknown, min: number, max: number) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
  if (typeof key !== 'string' || key.length === 0 || key.length > RATE_LIMIT_BOUNDS.keyLength) {
    issues.push({ path: 'key', message: `expected a string of 1-${RATE_LIMIT_BOUNDS.keyLength} characters` });
  }
  if (!isInteger(limit, 1, RATE_LIMIT_BOUNDS.limit)) {
    issues.push({ path: 'limit', message: `expected an integer from 1 to ${RATE_LIMIT_BOUNDS.limit}` });
  }
  if (!isInteger(windowMs, 1, RATE_LIMIT_BOUNDS.windowMs)) {
    issues.push({ path: 'windowMs', message: `expected an integer from 1 to ${RATE_LIMIT_BOUNDS.windowMs}` });
  }
  if (!isInteger(cost, 0, isInteger(limit, 1, RATE_LIMIT_BOUNDS.limit) ? limit : RATE_LIMIT_BOUNDS.limit)) {
    issues.push({ path: 'cost', message: 'expected an integer from 0 to the limit' });
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) issues.push({ path: 'now', message: 'expected a valid Date' });
  if (issues.length > 0) throw new ValidationError('Invalid rate limit take', issues);
  return { key, limit, windowMs, cost, now };
}

/** rateLimitInterval is the ms after which one unit of a limit comes back: ceil(windowMs / limit). */
export function rateLimitInterval(limit: number, windowMs: number): number {
  return Math.ceil(windowMs / limit);
}

/**
 * takeFromBucket applies the rule of RateLimitTakeParams to a key whose stored resetAt is
 * `storedResetAt` (epoch ms, null for a key never used) and returns the result and the
 * resetAt to store (unchanged when refused). Integer arithmetic only, so it is exact.
 */
export function takeFromBucket(
  storedResetAt: number | null,
  params: Required<RateLimitTakeParams>,
): { result: RateLimitTakeResult; resetAt: number } {
  const { limit, windowMs, cost } = params;
  const now = params.now.getTime();
  const interval = rateLimitInterval(limit, windowMs);
  const from = Math.max(storedResetAt ?? now, now);
  const next = from + cost * interval;
  const allowed = next - now <= interval * limit;
  const resetAt = allowed ? next : from;
  return { resetAt, result: rateLimitResult(allowed, resetAt, params) };
}

/** rateLimitResult describes a take by whether it was allowed and the key's resetAt after it (epoch ms). */
export function rateLimitResult(allowed: boolean, resetAt: number, params: Required<RateLimitTakeParams>): RateLimitTakeResult {
  const { limit, windowMs, cost } = params;
  const now = params.now.getTime();
  const interval = rateLimitInterval(limit, windowMs);
  const capacity = interval * limit;
  return {
    allowed,
    limit,
    // Another process's clock may run behind this one's: never report less than nothing.
    remaining: Math.max(0, Math.floor((capacity - (resetAt - now)) / interval)),
    resetAt: new Date(resetAt),
    // Refused, resetAt is where the take started from: the take fits once it is `capacity` ahead.
    retryAfterMs: allowed ? 0 : resetAt + cost * interval - now - capacity,
  };
}

/** AuditListFilter selects audit entries; every given field must match. */
export interface AuditListFilter {
  principalId?: string;
  action?: string;
  target?: string;
  outcome?: AuditOutcome;
  /** Entries at or after this time. */
  from?: Date;
  /** Entries before this time. */
  to?: Date;
}

export interface AuditListParams {
  filter: AuditListFilter;
  /** Id of the last entry of the previous page; the page holds older entries. */
  after?: string;
  limit: number;
}

export interface AuditListResult {
  entries: AuditEntry[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** AUDIT_ID_PATTERN is the shape of an audit entry id: a positive integer in decimal. */
export const AUDIT_ID_PATTERN = /^[1-9][0-9]{0,17}$/;

/** checkAuditCursor throws a ValidationError unless `after` is absent or an audit entry id. */
export function checkAuditCursor(after: string | undefined): void {
  if (after !== undefined && !AUDIT_ID_PATTERN.test(after)) {
    throw new ValidationError('Invalid cursor', [{ path: 'after', message: 'must be an audit entry id' }]);
  }
}
