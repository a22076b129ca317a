import Database from 'better-sqlite3';
import {
  InvalidStateError,
  StoreUnavailableError,
  TokenNameTakenError,
  ValidationError,
  type ValidationIssue,
} from '../../errors/index.js';
import type {
  ApiTokenInsert,
  AuditListParams,
  AuditListResult,
  ClaimedJob,
  JobClaimParams,
  JobHealth,
  JobHealthParams,
  JobInsert,
  JobInsertManyParams,
  JobInsertResult,
  JobLeaseRenewParams,
  JobLeaseRenewResult,
  JobListParams,
  JobListResult,
  JobProgressParams,
  JobSettle,
  JobSettleManyParams,
  JobSettleResult,
  JobStepSaveParams,
  MigrateResult,
  QueuePause,
  QueueStatsRow,
  RateLimitTakeParams,
  RateLimitTakeResult,
  ScheduleFireParams,
  ScheduleFireResult,
  SchedulePatch,
  SchemaVersion,
  Store,
  StoreCapabilities,
  StoreNotification,
} from '../../store/index.js';
import {
  checkApiTokenInsert,
  checkAuditCursor,
  checkInsertLease,
  checkParents,
  checkRateLimitTake,
  dedupKeyHeldReason,
  hasParents,
  insertedStatus,
  isDueOnInsert,
  linkParents,
  maxInstancesReason,
  pendingMigrations,
  scheduledJob,
  schemaVersionOf,
  takeFromBucket,
  withoutLease,
} from '../../store/index.js';
import type {
  ApiToken,
  AuditEntry,
  AuditEntryInput,
  AuditOutcome,
  EventRecord,
  Job,
  JobErrorRecord,
  JobStatus,
  JsonValue,
  Schedule,
  ScheduleFire,
  ScheduleFireOutcome,
} from '../../types/index.js';
import { DatabaseFileWatcher } from './file-watcher.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import * as SQL from './sql.js';

export { SQLITE_SCHEMA_VERSION } from './migrations.js';

/** SqliteStoreOptions configures the SQLite store. */
export interface SqliteStoreOptions {
  /**
   * Path of the database file, created when missing; `':memory:'` opens a private in-memory
   * database that lives as long as the store (tests, one process only).
   * @defaultValue './jobyard.db'
   */
  filename?: string;
  /**
   * How long, in milliseconds, a statement waits for another connection's lock before it
   * fails with StoreUnavailableError.
   * @defaultValue 5000
   */
  busyTimeoutMs?: number;
  /**
   * When SQLite waits for the disk. `'FULL'` syncs the WAL at every commit, so acknowledged
   * jobs survive a power loss; `'NORMAL'` is faster and survives process crashes only.
   * @defaultValue 'FULL'
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** ResolvedSqliteStoreOptions is SqliteStoreOptions with every default applied and checked. */
export type ResolvedSqliteStoreOptions = Required<SqliteStoreOptions>;

/** resolveSqliteStoreOptions applies defaults and rejects invalid values with ValidationError. */
export function resolveSqliteStoreOptions(options: SqliteStoreOptions = {}): ResolvedSqliteStoreOptions {
  const resolved: ResolvedSqliteStoreOptions = {
    filename: options.filename ?? './jobyard.db',
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    synchronous: options.synchronous ?? 'FULL',
  };
  const issues: ValidationIssue[] = [];
  if (typeof resolved.filename !== 'string' || resolved.filename === '') {
    issues.push({ path: 'filename', message: 'must be a non-empty string' });
  }
  if (!Number.isSafeInteger(resolved.busyTimeoutMs) || resolved.busyTimeoutMs < 0) {
    issues.push({ path: 'busyTimeoutMs', message: 'must be a non-negative integer (milliseconds)' });
  }
  if (resolved.synchronous !== 'FULL' && resolved.synchronous !== 'NORMAL') {
    issues.push({ path: 'synchronous', message: "must be 'FULL' or 'NORMAL'" });
  }
  if (issues.length > 0) throw new ValidationError('Invalid SQLite store options', issues);
  return resolved;
}

/** StuckJobRow is a row of JOB_STUCK. */
interface StuckJobRow {
  id: string;
  queue: string;
  task: string;
  attempt: number;
  started_at: number;
  lease_owner: string | null;
  total: number;
}

/** JobRow is a row of jobyard_jobs as better-sqlite3 returns it. */
interface JobRow {
  id: string;
  queue: string;
  task: string;
  payload: string;
  status: JobStatus;
  priority: number;
  run_at: number;
  attempt: number;
  max_attempts: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  errors: string;
  progress: number | null;
  progress_message: string | null;
  dedup_key: string | null;
  concurrency_key: string | null;
  concurrency_limit: number;
  tags: string;
  metadata: string;
  timeout_ms: number | null;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at: number | null;
  cancel_requested: number;
  steps: string | null;
  depends_on: string | null;
}

/** ScheduleRow is a row of jobyard_schedules as better-sqlite3 returns it. */
interface ScheduleRow {
  id: string;
  name: string | null;
  task: string;
  payload: string;
  trigger: string;
  paused: number;
  misfire_grace_ms: number | null;
  coalesce_missed: number;
  max_instances: number;
  jitter_ms: number;
  job_options: string;
  definition_hash: string | null;
  next_run_at: number | null;
  last_run_at: number | null;
  created_at: number;
  updated_at: number;
}

/** ScheduleFireRow is a row of jobyard_schedule_fires. */
interface ScheduleFireRow {
  schedule_id: string;
  fire_at: number;
  manual: number;
  outcome: ScheduleFireOutcome;
  job_id: string | null;
  reason: string | null;
  recorded_at: number;
}

/** ApiTokenRow is a row of jobyard_api_tokens. */
interface ApiTokenRow {
  id: string;
  name: string;
  role: ApiToken['role'];
  secret_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** AuditRow is a row of jobyard_audit_log. */
interface AuditRow {
  id: number;
  at: number;
  principal_id: string;
  principal_name: string;
  principal_role: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  status: number;
  request_id: string;
  client_address: string;
}

/** ClaimCandidate is what jobClaim needs to merge the candidates of several queues in claim order. */
interface ClaimCandidate {
  id: string;
  priority: number;
  run_at: number;
  concurrency_key: string | null;
}

/** QueuePauseRow is a row of jobyard_paused_queues. */
interface QueuePauseRow {
  queue: string;
  paused_at: number;
}

/** SettledRow is what a settle statement returns when its lease fence held. */
interface SettledRow {
  queue: string;
}

// Prune deletes in batches, each its own transaction, so a large backlog never holds the
// write lock long enough to stall claims of other processes.
const PRUNE_BATCH_SIZE = 1000;

// SQLite result codes (extended ones included) that say "try again later", not "bad call".
const UNAVAILABLE_CODE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR)/;

/**
 * classifySqliteError turns failures the caller may retry later (a lock held past the busy
 * timeout, an unreadable file, a closed store) into StoreUnavailableError; others pass through.
 */
function classifySqliteError(error: unknown, db: Database.Database | undefined): unknown {
  if (db !== undefined && !db.open) {
    return new StoreUnavailableError('The SQLite store is closed', { cause: error });
  }
  if (error instanceof Database.SqliteError && UNAVAILABLE_CODE.test(error.code)) {
    return new StoreUnavailableError(`SQLite store unavailable: ${error.message}`, { cause: error });
  }
  return error;
}

/**
 * SqliteStore keeps jobs in one SQLite file through better-sqlite3. Several processes may
 * share the file (WAL mode; writers take turns). Notifications are published inside this
 * process; while anyone subscribes, a watch on the database file also reports commits of
 * other processes as `jobs_available` for every queue ('*'), and polling remains the
 * fallback. Event records (eventPublish) do not reach other processes. Calls run synchronously on the event loop and return settled promises.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly capabilities: StoreCapabilities = { crossProcessNotify: false, transactionalEnqueue: false };

  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly listeners = new Set<(notification: StoreNotification) => void>();
  /** Hears commits of other processes while anyone subscribes; null for in-memory databases. */
  private readonly fileWatcher: DatabaseFileWatcher | null;
  /** Queues of child jobs the dependency trigger made due, announced once the write is done. */
  private readonly releasedQueues = new Set<string>();

  private readonly migrateInTransaction: () => MigrateResult;
  private readonly insertInTransaction: (jobs: JobInsert[]) => JobInsertResult[];
  private readonly claimInTransaction: (params: JobClaimParams) => ClaimedJob[];
  private readonly settleInTransaction: (
    settles: JobSettle[],
    now: number,
  ) => { results: JobSettleResult[]; dueQueues: Set<string> };
  private readonly renewInTransaction: (params: JobLeaseRenewParams) => JobLeaseRenewResult[];
  private readonly cancelInTransaction: (
    id: string,
    now: number,
  ) => { job: Job; outcome: 'cancelled' | 'requested' | 'final' } | null;
  private readonly retryInTransaction: (id: string, now: number) => { job: Job; applied: boolean } | null;
  private readonly scheduleUpdateInTransaction: (id: string, patch: SchedulePatch, now: number) => Schedule | null;
  private readonly scheduleFireInTransaction: (params: ScheduleFireParams) => ScheduleFireResult;
  private readonly rateLimitTakeInTransaction: (params: Required<RateLimitTakeParams>) => RateLimitTakeResult;

  /** The constructor opens the database but does not migrate; createSqliteStore does both. */
  constructor(options: SqliteStoreOptions = {}) {
    const resolved = resolveSqliteStoreOptions(options);
    let db: Database.Database | undefined;
    try {
      // The driver's timeout is SQLite's busy timeout; it is set before journal_mode because
      // switching to WAL needs a lock that processes opening the same file contend for.
      db = new Database(resolved.filename, { timeout: resolved.busyTimeoutMs });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${resolved.synchronous}`);
      db.pragma('foreign_keys = ON');
      // A cancelled child job cancels its own children through the same trigger (migration 10).
      db.pragma('recursive_triggers = ON');
    } catch (error) {
      db?.close();
      throw classifySqliteError(error, undefined);
    }
    this.db = db;
    // Called by the trigger that settles child jobs, for each child it made due.
    db.function('jobyard_jobs_released', { deterministic: false, directOnly: false }, (queue: unknown) => {
      if (typeof queue === 'string') this.releasedQueues.add(queue);
      return null;
    });
    this.fileWatcher = db.memory
      ? null
      : new DatabaseFileWatcher(resolved.filename, () => this.publish({ type: 'jobs_available', queue: '*' }));
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY at once instead of waiting for the busy timeout.
    this.migrateInTransaction = db.transaction(() => this.applyMigrations()).immediate;
    this.insertInTransaction = db.transaction((jobs: JobInsert[]) => this.insertJobs(jobs)).immediate;
    this.claimInTransaction = db.transaction((params: JobClaimParams) => this.claimJobs(params)).immediate;
    this.settleInTransaction = db.transaction((settles: JobSettle[], now: number) => this.settleJobs(settles, now)).immediate;
    this.renewInTransaction = db.transaction((params: JobLeaseRenewParams) => this.renewLeases(params)).immediate;
    this.cancelInTransaction = db.transaction((id: string, now: number) => this.cancelJob(id, now)).immediate;
    this.retryInTransaction = db.transaction((id: string, now: number) => this.retryJob(id, now)).immediate;
    this.scheduleUpdateInTransaction = db.transaction((id: string, patch: SchedulePatch, now: number) =>
      this.updateSchedule(id, patch, now),
    ).immediate;
    this.scheduleFireInTransaction = db.transaction((params: ScheduleFireParams) => this.fireSchedule(params)).immediate;
    // The read and the write of a take share the write lock, so takes of other processes wait between them.
    this.rateLimitTakeInTransaction = db.transaction((params: Required<RateLimitTakeParams>) =>
      this.takeRateLimit(params),
    ).immediate;
  }

  async migrate(): Promise<MigrateResult> {
    return this.run(() => this.migrateInTransaction());
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.fileWatcher?.stop();
    if (this.db.open) this.db.close();
  }

  async ping(): Promise<void> {
    this.run(() => this.statement(SQL.PING).get());
  }

  async schemaVersion(): Promise<SchemaVersion> {
    return this.run(() => {
      const { present } = this.statement(SQL.MIGRATIONS_TABLE_EXISTS).get() as { present: number };
      return schemaVersionOf(SQLITE_MIGRATIONS, present ? this.recordedMigrations() : []);
    });
  }

  async jobInsertMany(params: JobInsertManyParams): Promise<JobInsertResult[]> {
    if (params.transaction != null) {
      throw new ValidationError('The SQLite store cannot join a caller transaction (capabilities.transactionalEnqueue is false)');
    }
    checkInsertLease(params.jobs, false);
    checkParents(params.jobs);
    const results = this.run(() => this.insertInTransaction(params.jobs));
    this.publishAvailable(results.filter(({ created, job }) => created && isDueOnInsert(job)).map((result) => result.job.queue));
    return results;
  }

  async jobClaim(params: JobClaimParams): Promise<ClaimedJob[]> {
    return this.run(() => this.claimInTransaction(params));
  }

  async jobSettleMany(params: JobSettleManyParams): Promise<JobSettleResult[]> {
    const { results, dueQueues } = this.run(() => this.settleInTransaction(params.settles, params.now.getTime()));
    this.publishAvailable(dueQueues);
    return results;
  }

  async jobLeaseRenew(params: JobLeaseRenewParams): Promise<JobLeaseRenewResult[]> {
    return this.run(() => this.renewInTransaction(params));
  }

  async jobStepSave({ id, leaseToken, step }: JobStepSaveParams): Promise<boolean> {
    const values = { id, leaseToken, name: step.name, step: JSON.stringify(step) };
    return this.run(() => this.statement(SQL.JOB_STEP_SAVE).run(values).changes > 0);
  }

  async jobProgress(params: JobProgressParams): Promise<boolean> {
    const { id, leaseToken, progress, message } = params;
    return this.run(() => this.statement(SQL.JOB_PROGRESS).run({ id, leaseToken, progress, message }).changes > 0);
  }

  async jobRescueExpired(params: { now: Date; limit: number }): Promise<Job[]> {
    const rows = this.run(
      () =>
        this.statement(SQL.JOB_RESCUE_EXPIRED).all({
          now: params.now.getTime(),
          nowIso: params.now.toISOString(),
          limit: params.limit,
        }) as JobRow[],
    );
    const jobs = rows.map(jobFromRow);
    this.publishAvailable(jobs.filter((job) => job.status === 'retryable').map((job) => job.queue));
    return jobs;
  }

  async jobParents(params: { id: string }): Promise<Job[]> {
    if (typeof params.id !== 'string') return [];
    return this.run(() => (this.statement(SQL.JOB_PARENTS).all({ id: params.id }) as JobRow[]).map(jobFromRow));
  }

  async jobGet(params: { id: string }): Promise<Job | null> {
    if (typeof params.id !== 'string') return null;
    const row = this.run(() => this.statement(SQL.JOB_GET).get({ id: params.id }) as JobRow | undefined);
    return row === undefined ? null : jobFromRow(row);
  }

  async jobList(params: JobListParams): Promise<JobListResult> {
    const { filter, after, limit } = params;
    const bindings = {
      queue: filter.queue ?? null,
      task: filter.task ?? null,
      statuses: filter.status === undefined ? null : JSON.stringify(filter.status),
      metadata: filter.metadata === undefined ? null : JSON.stringify(filter.metadata),
      tag: filter.tag ?? null,
      dedupKey: filter.dedupKey ?? null,
      // One row more than the page tells whether another page follows.
      limit: limit + 1,
    };
    const rows = this.run(
      () =>
        (after === undefined
          ? this.statement(SQL.jobList('newest', filter.dedupKey !== undefined)).all(bindings)
          : this.statement(SQL.jobList('older', filter.dedupKey !== undefined)).all({ ...bindings, after })) as JobRow[],
    );
    const jobs = rows.slice(0, limit).map(jobFromRow);
    const last = jobs.at(-1);
    return { jobs, nextCursor: rows.length > limit && last !== undefined ? last.id : null };
  }

  async jobCancel(params: { id: string; now: Date }): Promise<{ job: Job; outcome: 'cancelled' | 'requested' | 'final' } | null> {
    const cancelled = this.run(() => this.cancelInTransaction(params.id, params.now.getTime()));
    if (cancelled?.outcome === 'requested') this.publish({ type: 'cancel', jobId: cancelled.job.id });
    return cancelled;
  }

  async jobRetry(params: { id: string; now: Date }): Promise<{ job: Job; applied: boolean } | null> {
    const retried = this.run(() => this.retryInTransaction(params.id, params.now.getTime()));
    if (retried?.applied) this.publishAvailable([retried.job.queue]);
    return retried;
  }

  async jobPrune(params: { olderThan: Date; statuses: JobStatus[] }): Promise<number> {
    return this.pruneInBatches(SQL.JOB_PRUNE_BATCH, {
      statuses: JSON.stringify(params.statuses),
      olderThan: params.olderThan.getTime(),
    });
  }

  async jobDelete(params: { id: string }): Promise<{ job: Job; deleted: boolean } | null> {
    if (typeof params.id !== 'string') return null;
    return this.run(() => {
      const deleted = this.statement(SQL.JOB_DELETE_FINISHED).get({ id: params.id }) as JobRow | undefined;
      if (deleted !== undefined) return { job: jobFromRow(deleted), deleted: true };
      const row = this.statement(SQL.JOB_GET).get({ id: params.id }) as JobRow | undefined;
      return row === undefined ? null : { job: jobFromRow(row), deleted: false };
    });
  }

  async queueStats(): Promise<QueueStatsRow[]> {
    return this.run(() => this.statement(SQL.QUEUE_STATS).all() as QueueStatsRow[]);
  }

  async queuePause(params: { queue: string; now: Date }): Promise<QueuePause> {
    const row = this.run(() => this.statement(SQL.QUEUE_PAUSE).get({ queue: params.queue, pausedAt: params.now.getTime() }));
    return queuePauseFromRow(row as QueuePauseRow);
  }

  async queueResume(params: { queue: string }): Promise<boolean> {
    const resumed = this.run(() => this.statement(SQL.QUEUE_RESUME).run({ queue: params.queue }).changes > 0);
    // Other processes hear of it through the file watch (any commit wakes them).
    if (resumed) this.publishAvailable([params.queue]);
    return resumed;
  }

  async queuePauses(): Promise<QueuePause[]> {
    return this.run(() => (this.statement(SQL.QUEUE_PAUSES).all() as QueuePauseRow[]).map(queuePauseFromRow));
  }

  async jobHealth(params: JobHealthParams): Promise<JobHealth> {
    return this.run(() => {
      const stuckRows = this.statement(SQL.JOB_STUCK).all({
        stuckBefore: params.stuckBefore.getTime(),
        limit: params.stuckLimit,
      }) as StuckJobRow[];
      const finished = { completed: 0, failed: 0, cancelled: 0 };
      const counts = this.statement(SQL.JOB_FINISHED_COUNTS).all({ since: params.finishedSince.getTime() }) as {
        status: keyof typeof finished;
        count: number;
      }[];
      for (const { status, count } of counts) finished[status] = count;
      return {
        stuck: stuckRows.map((row) => ({
          id: row.id,
          queue: row.queue,
          task: row.task,
          attempt: row.attempt,
          startedAt: new Date(row.started_at),
          leaseOwner: row.lease_owner,
        })),
        stuckCount: stuckRows[0]?.total ?? 0,
        finished,
      };
    });
  }

  subscribe(listener: (notification: StoreNotification) => void): () => void {
    // A wrapper per call, so the same function subscribed twice is also removed twice.
    const subscription = (notification: StoreNotification) => listener(notification);
    this.listeners.add(subscription);
    this.fileWatcher?.start();
    return () => {
      this.listeners.delete(subscription);
      if (this.listeners.size === 0) this.fileWatcher?.stop();
    };
  }

  /** whenSubscribed resolves at once: this store delivers to its subscribers in process. */
  async whenSubscribed(): Promise<void> {}

  /**
   * eventPublish drops the batch: no other process can hear this store, and this process's
   * own client hands its events to its watchers directly (see Store.eventPublish).
   */
  async eventPublish(_params: { events: EventRecord[] }): Promise<void> {}

  async scheduleInsert(params: { schedule: Schedule }): Promise<{ schedule: Schedule; created: boolean }> {
    const { schedule } = params;
    return this.run(() => {
      const inserted = this.statement(SQL.SCHEDULE_INSERT).get({
        ...scheduleBindings(schedule),
        lastRunAt: schedule.lastRunAt?.getTime() ?? null,
        createdAt: schedule.createdAt.getTime(),
      }) as ScheduleRow | undefined;
      if (inserted !== undefined) return { schedule: scheduleFromRow(inserted), created: true };
      const existing = this.statement(SQL.SCHEDULE_GET).get({ id: schedule.id }) as ScheduleRow;
      return { schedule: scheduleFromRow(existing), created: false };
    });
  }

  async scheduleUpdate(params: { id: string; patch: SchedulePatch; now: Date }): Promise<Schedule | null> {
    return this.run(() => this.scheduleUpdateInTransaction(params.id, params.patch, params.now.getTime()));
  }

  async scheduleDelete(params: { id: string }): Promise<boolean> {
    return this.run(() => this.statement(SQL.SCHEDULE_DELETE).run({ id: params.id }).changes > 0);
  }

  async scheduleGet(params: { id: string }): Promise<Schedule | null> {
    const row = this.run(() => this.statement(SQL.SCHEDULE_GET).get({ id: params.id }) as ScheduleRow | undefined);
    return row === undefined ? null : scheduleFromRow(row);
  }

  async scheduleList(): Promise<Schedule[]> {
    return this.run(() => (this.statement(SQL.SCHEDULE_LIST).all() as ScheduleRow[]).map(scheduleFromRow));
  }

  async scheduleDue(params: { now: Date; limit: number }): Promise<Schedule[]> {
    const rows = this.run(
      () => this.statement(SQL.SCHEDULE_DUE).all({ now: params.now.getTime(), limit: params.limit }) as ScheduleRow[],
    );
    return rows.map(scheduleFromRow);
  }

  async scheduleFire(params: ScheduleFireParams): Promise<ScheduleFireResult> {
    const result = this.run(() => this.scheduleFireInTransaction(params));
    this.publishAvailable(result.jobs.filter((job) => job.status === 'available').map((job) => job.queue));
    return result;
  }

  async scheduleHistory(params: { scheduleId: string; limit: number }): Promise<ScheduleFire[]> {
    const rows = this.run(() => this.statement(SQL.SCHEDULE_HISTORY).all(params) as ScheduleFireRow[]);
    return rows.map(scheduleFireFromRow);
  }

  async tokenInsert(params: { token: ApiTokenInsert }): Promise<ApiToken> {
    const { token } = params;
    checkApiTokenInsert(token);
    return this.run(() => {
      const inserted = this.statement(SQL.TOKEN_INSERT).get({
        id: token.id,
        name: token.name,
        role: token.role,
        secretHash: token.secretHash,
        createdAt: token.createdAt.getTime(),
      }) as ApiTokenRow | undefined;
      if (inserted !== undefined) return apiTokenFromRow(inserted);
      if (this.statement(SQL.TOKEN_GET_LIVE_BY_NAME).get({ name: token.name }) !== undefined) {
        throw new TokenNameTakenError(token.name);
      }
      throw new ValidationError('Invalid API token', [{ path: 'id', message: 'a token with this id or secret hash exists' }]);
    });
  }

  async tokenFindByHash(params: { secretHash: string }): Promise<ApiToken | null> {
    const row = this.run(
      () => this.statement(SQL.TOKEN_FIND_BY_HASH).get({ secretHash: params.secretHash }) as ApiTokenRow | undefined,
    );
    return row === undefined ? null : apiTokenFromRow(row);
  }

  async tokenList(params: { includeRevoked: boolean }): Promise<ApiToken[]> {
    const rows = this.run(
      () => this.statement(SQL.TOKEN_LIST).all({ includeRevoked: params.includeRevoked ? 1 : 0 }) as ApiTokenRow[],
    );
    return rows.map(apiTokenFromRow);
  }

  async tokenRevoke(params: { id: string; now: Date }): Promise<{ token: ApiToken; applied: boolean } | null> {
    return this.run(() => {
      const revoked = this.statement(SQL.TOKEN_REVOKE).get({ id: params.id, now: params.now.getTime() }) as
        | ApiTokenRow
        | undefined;
      if (revoked !== undefined) return { token: apiTokenFromRow(revoked), applied: true };
      const row = this.statement(SQL.TOKEN_GET).get({ id: params.id }) as ApiTokenRow | undefined;
      return row === undefined ? null : { token: apiTokenFromRow(row), applied: false };
    });
  }

  async tokenMarkUsed(params: { id: string; now: Date }): Promise<void> {
    this.run(() => this.statement(SQL.TOKEN_MARK_USED).run({ id: params.id, now: params.now.getTime() }));
  }

  async rateLimitTake(params: RateLimitTakeParams): Promise<RateLimitTakeResult> {
    const take = checkRateLimitTake(params);
    return this.run(() => this.rateLimitTakeInTransaction(take));
  }

  async rateLimitPrune(params: { now: Date }): Promise<number> {
    return this.pruneInBatches(SQL.RATE_LIMIT_PRUNE_BATCH, { now: params.now.getTime() });
  }

  async auditAppend(params: { entry: AuditEntryInput }): Promise<AuditEntry> {
    const { entry } = params;
    const row = this.run(
      () =>
        this.statement(SQL.AUDIT_APPEND).get({
          at: entry.at.getTime(),
          principalId: entry.principal.id,
          principalName: entry.principal.name,
          principalRole: entry.principal.role,
          action: entry.action,
          target: entry.target,
          outcome: entry.outcome,
          status: entry.status,
          requestId: entry.requestId,
          clientAddress: entry.clientAddress,
        }) as AuditRow,
    );
    return auditEntryFromRow(row);
  }

  async auditList(params: AuditListParams): Promise<AuditListResult> {
    const { filter, after, limit } = params;
    checkAuditCursor(after);
    const bindings: Record<string, unknown> = {
      principalId: filter.principalId,
      action: filter.action,
      target: filter.target,
      outcome: filter.outcome,
      from: filter.from?.getTime(),
      to: filter.to?.getTime(),
      after: after === undefined ? undefined : Number(after),
    };
    const conditions = (Object.keys(bindings) as SQL.AuditListCondition[]).filter((name) => bindings[name] !== undefined);
    const given = Object.fromEntries(conditions.map((name) => [name, bindings[name]]));
    // One row more than the page tells whether another page follows.
    const rows = this.run(() => this.statement(SQL.auditList(conditions)).all({ ...given, limit: limit + 1 }) as AuditRow[]);
    const entries = rows.slice(0, limit).map(auditEntryFromRow);
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > limit && last !== undefined ? last.id : null };
  }

  async auditPrune(params: { olderThan: Date }): Promise<number> {
    return this.pruneInBatches(SQL.AUDIT_PRUNE_BATCH, { olderThan: params.olderThan.getTime() });
  }

  /** run executes one synchronous piece of database work and classifies its failure. */
  private run<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw classifySqliteError(error, this.db);
    } finally {
      if (this.releasedQueues.size > 0) {
        this.publishAvailable(this.releasedQueues);
        this.releasedQueues.clear();
      }
    }
  }

  /** pruneInBatches runs a delete statement of at most @batchSize rows until it deletes fewer; returns how many in all. */
  private pruneInBatches(sql: string, bindings: Record<string, unknown>): number {
    return this.run(() => {
      let deleted = 0;
      for (;;) {
        const { changes } = this.statement(sql).run({ ...bindings, batchSize: PRUNE_BATCH_SIZE });
        deleted += changes;
        if (changes < PRUNE_BATCH_SIZE) return deleted;
      }
    });
  }

  /** statement prepares each SQL text once (lazily: the tables exist only after migrate). */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private publish(notification: StoreNotification): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(notification);
      } catch {
        // The write being announced has committed; a failing listener must not turn it
        // into a failed call, and workers poll anyway.
      }
    }
  }

  private publishAvailable(queues: Iterable<string>): void {
    for (const queue of new Set(queues)) this.publish({ type: 'jobs_available', queue });
  }

  private recordedMigrations(): number[] {
    return (this.statement(SQL.MIGRATIONS_RECORDED).all() as { version: number }[]).map((row) => row.version);
  }

  /** applyMigrations runs every listed migration not yet recorded (see Store.migrate); the caller holds the write lock. */
  private applyMigrations(): MigrateResult {
    this.db.exec(SQL.MIGRATIONS_TABLE_CREATE);
    const recorded = this.recordedMigrations();
    const pending = pendingMigrations(SQLITE_MIGRATIONS, recorded);
    for (const migration of pending) {
      this.db.exec(migration.sql);
      this.statement(SQL.MIGRATION_RECORD).run({ version: migration.version, name: migration.name, appliedAt: Date.now() });
    }
    const applied = pending.map((migration) => migration.version);
    return { applied, version: Math.max(0, ...recorded, ...applied) };
  }

  /**
   * insertJobs inserts jobs in the caller's transaction, then links the new ones that have
   * parents to them (see Store.jobInsertMany). A leased job (local hand-off) of a paused queue
   * is inserted without its lease: the hand-off is a claim, and a paused queue gives none.
   */
  private insertJobs(jobs: JobInsert[]): JobInsertResult[] {
    const paused = jobs.some((job) => job.lease !== undefined) ? this.pausedQueues() : null;
    const results = jobs.map((job) =>
      this.insertJob(job.lease !== undefined && paused?.has(job.queue) ? withoutLease(job) : job),
    );
    const children = jobs.filter((job, index) => hasParents(job) && results[index]?.created);
    if (children.length === 0) return results;
    const parentIds = [...new Set(children.flatMap((child) => child.dependsOn ?? []))];
    const rows = this.statement(SQL.JOB_PARENT_STATUSES).all({ ids: JSON.stringify(parentIds) }) as {
      id: string;
      status: JobStatus;
    }[];
    const links = linkParents(children, new Map(rows.map((row) => [row.id, row.status])));
    const linked = new Map<string, Job>();
    for (const [index, link] of links.entries()) {
      const parentIds = JSON.stringify(link.parentIds);
      this.statement(SQL.JOB_DEPENDENCIES_INSERT).run({ childId: link.childId, parentIds });
      this.statement(SQL.JOB_PARENTS_MARK).run({ parentIds });
      const row = this.statement(SQL.JOB_CHILD_LINK).get({
        id: link.childId,
        dependsOn: parentIds,
        waitingParents: link.waitingParents,
        onParentFailure: link.onParentFailure,
        now: (children[index] as JobInsert).createdAt.getTime(),
      }) as JobRow;
      linked.set(link.childId, jobFromRow(row));
    }
    return results.map((result) => ({ ...result, job: linked.get(result.job.id) ?? result.job }));
  }

  /** pausedQueues reads the names of the paused queues (a tiny table). */
  private pausedQueues(): Set<string> {
    return new Set((this.statement(SQL.QUEUE_PAUSES).all() as QueuePauseRow[]).map((row) => row.queue));
  }

  private insertJob(job: JobInsert): JobInsertResult {
    const inserted = this.statement(SQL.JOB_INSERT).get({
      id: job.id,
      queue: job.queue,
      task: job.task,
      payload: JSON.stringify(job.payload),
      status: insertedStatus(job),
      priority: job.priority,
      runAt: job.runAt.getTime(),
      maxAttempts: job.maxAttempts,
      createdAt: job.createdAt.getTime(),
      dedupKey: job.dedupKey,
      concurrencyKey: job.concurrencyKey,
      concurrencyLimit: job.concurrencyLimit,
      tags: JSON.stringify(job.tags),
      metadata: JSON.stringify(job.metadata),
      timeoutMs: job.timeoutMs,
      leaseOwner: job.lease?.owner ?? null,
      leaseExpiresAt: job.lease?.expiresAt.getTime() ?? null,
    }) as JobRow | undefined;
    if (inserted !== undefined) {
      const created = { job: jobFromRow(inserted), created: true };
      return inserted.lease_token === null ? created : { ...created, leaseToken: inserted.lease_token };
    }
    // Nothing inserted means the dedup index found a live job; this transaction holds the
    // write lock, so that job is still there.
    const live = this.statement(SQL.JOB_GET_LIVE_BY_DEDUP_KEY).get({ dedupKey: job.dedupKey }) as JobRow;
    return { job: jobFromRow(live), created: false };
  }

  /**
   * claimJobs claims in rounds: each round reads the next candidates of every queue, merges
   * them in claim order and claims them one by one. A candidate is refused only when claims
   * earlier in the same round filled its concurrency key; later rounds no longer read it, so
   * a round that claims nothing means nothing more can be claimed.
   */
  private claimJobs(params: JobClaimParams): ClaimedJob[] {
    const now = params.now.getTime();
    const lease = { now, workerId: params.workerId, leaseExpiresAt: now + params.leaseMs };
    // Read in the claim's write transaction: a pause committed before it is seen, and none can commit during it.
    const paused = this.pausedQueues();
    const queues = [...new Set(params.queues)].filter((queue) => !paused.has(queue));
    const claimed: ClaimedJob[] = [];
    while (claimed.length < params.limit) {
      const limit = params.limit - claimed.length;
      const candidates = queues
        .flatMap((queue) => this.statement(SQL.JOB_CLAIM_CANDIDATES).all({ queue, now, limit }) as ClaimCandidate[])
        .sort(compareClaimOrder)
        .slice(0, limit);
      if (candidates.length === 0) break;
      // Jobs without a concurrency key start in one statement; keyed ones one by one, each
      // rechecking its key's free slots (earlier claims of this transaction count).
      const unkeyed = candidates.filter((candidate) => candidate.concurrency_key === null).map((candidate) => candidate.id);
      const started = new Map<string, JobRow>();
      if (unkeyed.length > 0) {
        const rows = this.statement(SQL.JOB_CLAIM_UNKEYED).all({ ...lease, ids: JSON.stringify(unkeyed) }) as JobRow[];
        for (const row of rows) started.set(row.id, row);
      }
      for (const candidate of candidates) {
        if (candidate.concurrency_key === null) continue;
        const row = this.statement(SQL.JOB_CLAIM).get({ ...lease, id: candidate.id }) as JobRow | undefined;
        if (row !== undefined) started.set(row.id, row);
      }
      if (started.size === 0) break;
      for (const candidate of candidates) {
        const row = started.get(candidate.id);
        if (row !== undefined) claimed.push({ job: jobFromRow(row), leaseToken: row.lease_token as string });
      }
    }
    return claimed;
  }

  private settleJobs(settles: JobSettle[], now: number): { results: JobSettleResult[]; dueQueues: Set<string> } {
    const dueQueues = new Set<string>();
    const completed = this.completeJobs(settles, now);
    const results = settles.map(({ id, leaseToken, outcome }) => {
      const fence = { id, leaseToken };
      let settled: SettledRow | undefined;
      let dueAt: number | null = null;
      switch (outcome.kind) {
        case 'completed':
          // Written above; a job settled twice in one batch is applied once.
          return { id, applied: completed.delete(id) };
        case 'retry':
          dueAt = outcome.runAt.getTime();
          settled = this.settleWith(SQL.JOB_SETTLE_RETRY, { ...fence, error: JSON.stringify(outcome.error), runAt: dueAt });
          break;
        case 'failed':
        case 'cancelled':
          settled = this.settleWith(SQL.JOB_SETTLE_FINISHED, {
            ...fence,
            status: outcome.kind,
            error: jsonOrNull(outcome.error),
            now,
          });
          break;
        case 'released':
          dueAt = outcome.runAt.getTime();
          settled = this.settleWith(SQL.JOB_SETTLE_RELEASED, {
            ...fence,
            status: dueAt > now ? 'scheduled' : 'available',
            runAt: dueAt,
          });
          break;
      }
      if (settled !== undefined && dueAt !== null && dueAt <= now) dueQueues.add(settled.queue);
      return { id, applied: settled !== undefined };
    });
    return { results, dueQueues };
  }

  /** completeJobs writes every `completed` outcome of a batch in one statement; returns the ids it applied to. */
  private completeJobs(settles: JobSettle[], now: number): Set<string> {
    const completions = settles.flatMap(({ id, leaseToken, outcome }) =>
      // A handler that returns nothing reports `undefined`; it is stored as no result.
      outcome.kind === 'completed' ? [{ id, leaseToken, result: outcome.result ?? undefined }] : [],
    );
    if (completions.length === 0) return new Set();
    const rows = this.statement(SQL.JOB_SETTLE_COMPLETED_MANY).all({ settles: JSON.stringify(completions), now }) as {
      id: string;
    }[];
    return new Set(rows.map((row) => row.id));
  }

  private settleWith(sql: string, bindings: Record<string, unknown>): SettledRow | undefined {
    return this.statement(sql).get(bindings) as SettledRow | undefined;
  }

  private renewLeases(params: JobLeaseRenewParams): JobLeaseRenewResult[] {
    const leaseExpiresAt = params.now.getTime() + params.leaseMs;
    return params.leases.map(({ id, leaseToken }) => {
      const row = this.statement(SQL.JOB_LEASE_RENEW).get({ id, leaseToken, leaseExpiresAt }) as
        | { cancel_requested: number }
        | undefined;
      return { id, held: row !== undefined, cancelRequested: row?.cancel_requested === 1 };
    });
  }

  private cancelJob(id: string, now: number): { job: Job; outcome: 'cancelled' | 'requested' | 'final' } | null {
    const row = this.statement(SQL.JOB_GET).get({ id }) as JobRow | undefined;
    if (row === undefined) return null;
    if (row.status === 'running') {
      return { job: jobFromRow(this.statement(SQL.JOB_CANCEL_REQUEST).get({ id }) as JobRow), outcome: 'requested' };
    }
    if (row.status === 'scheduled' || row.status === 'available' || row.status === 'retryable') {
      return { job: jobFromRow(this.statement(SQL.JOB_CANCEL_WAITING).get({ id, now }) as JobRow), outcome: 'cancelled' };
    }
    return { job: jobFromRow(row), outcome: 'final' };
  }

  private updateSchedule(id: string, patch: SchedulePatch, now: number): Schedule | null {
    const row = this.statement(SQL.SCHEDULE_GET).get({ id }) as ScheduleRow | undefined;
    if (row === undefined) return null;
    const updated = { ...scheduleFromRow(row), ...patch };
    return scheduleFromRow(
      this.statement(SQL.SCHEDULE_UPDATE).get({ ...scheduleBindings(updated), updatedAt: now }) as ScheduleRow,
    );
  }

  private fireSchedule(params: ScheduleFireParams): ScheduleFireResult {
    const { scheduleId, advance } = params;
    const notApplied: ScheduleFireResult = { applied: false, fires: [], jobs: [] };
    let maxInstances: number;
    if (advance === null) {
      const row = this.statement(SQL.SCHEDULE_GET).get({ id: scheduleId }) as ScheduleRow | undefined;
      if (row === undefined) return notApplied;
      maxInstances = row.max_instances;
    } else {
      const moved = this.statement(SQL.SCHEDULE_ADVANCE).get({
        id: scheduleId,
        from: advance.from.getTime(),
        to: advance.to?.getTime() ?? null,
      }) as { max_instances: number } | undefined;
      if (moved === undefined) return notApplied;
      maxInstances = moved.max_instances;
    }
    const recordedAt = params.now.getTime();
    // A call without compare-and-set is a manual run: it has its own key beside the fire times.
    const manual = advance === null ? 1 : 0;
    const fires: ScheduleFire[] = [];
    const jobs: Job[] = [];
    let lastRunAt: number | null = null;
    for (const fire of params.fires) {
      const fireAt = fire.fireAt.getTime();
      let record: { outcome: ScheduleFireOutcome; jobId: string | null; reason: string | null };
      if (fire.job === null) record = { outcome: fire.outcome, jobId: null, reason: fire.reason };
      else {
        const live = (this.statement(SQL.SCHEDULE_LIVE_JOBS).get({ scheduleId }) as { count: number }).count;
        record =
          live >= maxInstances
            ? { outcome: 'skipped', jobId: null, reason: maxInstancesReason(maxInstances) }
            : { outcome: 'enqueued', jobId: fire.job.id, reason: null };
      }
      const key = { scheduleId, fireAt, manual };
      let row = this.statement(SQL.SCHEDULE_FIRE_INSERT).get({ ...key, ...record, recordedAt }) as ScheduleFireRow | undefined;
      if (row === undefined) continue;
      if (record.outcome === 'enqueued' && fire.job !== null) {
        const { job, created } = this.insertJob(scheduledJob(fire.job, scheduleId));
        if (created) {
          jobs.push(job);
          lastRunAt = Math.max(lastRunAt ?? fireAt, fireAt);
        } else {
          const reason = dedupKeyHeldReason(job.dedupKey ?? '', job.id);
          row = this.statement(SQL.SCHEDULE_FIRE_SKIP).get({ ...key, jobId: job.id, reason }) as ScheduleFireRow;
        }
      }
      fires.push(scheduleFireFromRow(row));
    }
    if (lastRunAt !== null) this.statement(SQL.SCHEDULE_SET_LAST_RUN).run({ id: scheduleId, lastRunAt });
    return { applied: true, fires, jobs };
  }

  private takeRateLimit(params: Required<RateLimitTakeParams>): RateLimitTakeResult {
    const stored = this.statement(SQL.RATE_LIMIT_GET).get({ key: params.key }) as { reset_at: number } | undefined;
    const { result, resetAt } = takeFromBucket(stored?.reset_at ?? null, params);
    if (result.allowed && params.cost > 0) this.statement(SQL.RATE_LIMIT_SET).run({ key: params.key, resetAt });
    return result;
  }

  private retryJob(id: string, now: number): { job: Job; applied: boolean } | null {
    let retried: JobRow | undefined;
    try {
      retried = this.statement(SQL.JOB_RETRY).get({ id, now }) as JobRow | undefined;
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new InvalidStateError(`Job ${id} cannot be retried: a live job holds its dedup key`, 'failed');
      }
      throw error;
    }
    if (retried !== undefined) return { job: jobFromRow(retried), applied: true };
    const row = this.statement(SQL.JOB_GET).get({ id }) as JobRow | undefined;
    return row === undefined ? null : { job: jobFromRow(row), applied: false };
  }
}

/** createSqliteStore opens the database at `options.filename` and migrates it before returning the store. */
export async function createSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const store = new SqliteStore(options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function compareClaimOrder(a: ClaimCandidate, b: ClaimCandidate): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.run_at !== b.run_at) return a.run_at - b.run_at;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function jsonOrNull(value: JsonValue | JobErrorRecord | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function jobFromRow(row: JobRow): Job {
  return {
    id: row.id,
    queue: row.queue,
    task: row.task,
    payload: JSON.parse(row.payload),
    status: row.status,
    priority: row.priority,
    runAt: new Date(row.run_at),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    createdAt: new Date(row.created_at),
    startedAt: dateOrNull(row.started_at),
    finishedAt: dateOrNull(row.finished_at),
    result: row.result === null ? null : JSON.parse(row.result),
    errors: JSON.parse(row.errors),
    progress: row.progress,
    progressMessage: row.progress_message,
    dedupKey: row.dedup_key,
    concurrencyKey: row.concurrency_key,
    concurrencyLimit: row.concurrency_limit,
    tags: JSON.parse(row.tags),
    metadata: JSON.parse(row.metadata),
    timeoutMs: row.timeout_ms,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: dateOrNull(row.lease_expires_at),
    cancelRequested: row.cancel_requested === 1,
    steps: row.steps === null ? [] : JSON.parse(row.steps),
    dependsOn: row.depends_on === null ? [] : JSON.parse(row.depends_on),
  };
}

/** scheduleBindings binds the editable columns of a schedule (and its id). */
function scheduleBindings(schedule: Schedule) {
  return {
    id: schedule.id,
    name: schedule.name,
    task: schedule.task,
    payload: JSON.stringify(schedule.payload),
    trigger: JSON.stringify(schedule.trigger),
    paused: schedule.paused ? 1 : 0,
    misfireGraceMs: schedule.misfireGraceMs,
    coalesce: schedule.coalesce ? 1 : 0,
    maxInstances: schedule.maxInstances,
    jitterMs: schedule.jitterMs,
    jobOptions: JSON.stringify(schedule.jobOptions),
    definitionHash: schedule.definitionHash,
    nextRunAt: schedule.nextRunAt?.getTime() ?? null,
    updatedAt: schedule.updatedAt.getTime(),
  };
}

function scheduleFromRow(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    name: row.name,
    task: row.task,
    payload: JSON.parse(row.payload),
    trigger: JSON.parse(row.trigger),
    paused: row.paused === 1,
    misfireGraceMs: row.misfire_grace_ms,
    coalesce: row.coalesce_missed === 1,
    maxInstances: row.max_instances,
    jitterMs: row.jitter_ms,
    jobOptions: JSON.parse(row.job_options),
    definitionHash: row.definition_hash,
    nextRunAt: dateOrNull(row.next_run_at),
    lastRunAt: dateOrNull(row.last_run_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function queuePauseFromRow(row: QueuePauseRow): QueuePause {
  return { queue: row.queue, pausedAt: new Date(row.paused_at) };
}

function apiTokenFromRow(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: new Date(row.created_at),
    lastUsedAt: dateOrNull(row.last_used_at),
    revokedAt: dateOrNull(row.revoked_at),
  };
}

function scheduleFireFromRow(row: ScheduleFireRow): ScheduleFire {
  return {
    scheduleId: row.schedule_id,
    fireAt: new Date(row.fire_at),
    manual: row.manual === 1,
    outcome: row.outcome,
    jobId: row.job_id,
    reason: row.reason,
    recordedAt: new Date(row.recorded_at),
  };
}

function auditEntryFromRow(row: AuditRow): AuditEntry {
  return {
    id: String(row.id),
    at: new Date(row.at),
    principal: { id: row.principal_id, name: row.principal_name, role: row.principal_role },
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    status: row.status,
    requestId: row.request_id,
    clientAddress: row.client_address,
  };
}
