/**
 * Every SQL statement of the SQLite store. Parameters are named (`@name`, bound from an
 * object); times are epoch milliseconds; JSON columns take and return JSON text.
 */

// Fragments shared by several statements. The status lists repeat the partial indexes'
// WHERE clauses word for word, because SQLite only uses a partial index when the query
// states its condition.
const WAITING = `status IN ('scheduled', 'available', 'retryable')`;
const FINAL = `status IN ('completed', 'failed', 'cancelled')`;
const LIVE_DEDUP = `dedup_key IS NOT NULL AND status NOT IN ('completed', 'failed', 'cancelled')`;
/** A job may start while fewer than its concurrencyLimit jobs with its key run (this transaction's claims included). */
const CONCURRENCY_SLOT_FREE = `(concurrency_key IS NULL OR concurrency_limit > (
  SELECT count(*) FROM jobyard_jobs AS running
  WHERE running.status = 'running' AND running.concurrency_key = jobyard_jobs.concurrency_key))`;
/** Writes of an attempt apply only while its lease is held. */
const LEASE_HELD = `id = @id AND lease_token = @leaseToken AND status = 'running'`;
const LEASE_CLEARED = `lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL`;
const APPEND_ERROR = `json_insert(errors, '$[#]', json(@error))`;
/** A new lease token: 128 random bits as hex. */
const NEW_LEASE_TOKEN = 'lower(hex(randomblob(16)))';

/** Creates the migration ledger (before any migration can be read). No parameters. */
export const MIGRATIONS_TABLE_CREATE = `
CREATE TABLE IF NOT EXISTS jobyard_migrations (
  version    INTEGER NOT NULL PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

/** Reads the versions of the applied migrations, ascending. No parameters. */
export const MIGRATIONS_RECORDED = `SELECT version FROM jobyard_migrations ORDER BY version`;

/** Says whether the migration ledger exists (1) or not (0): a never-migrated database has none. No parameters. */
export const MIGRATIONS_TABLE_EXISTS = `
SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobyard_migrations') AS present`;

/** Records an applied migration. @version, @name, @appliedAt. */
export const MIGRATION_RECORD = `INSERT INTO jobyard_migrations (version, name, applied_at) VALUES (@version, @name, @appliedAt)`;

/** Checks that the database answers. No parameters. */
export const PING = `SELECT 1`;

/**
 * Inserts one job unless a live job holds its dedup key (the unique partial index decides);
 * returns the new row, or nothing on a dedup conflict. One parameter per JobInsert field;
 * @leaseOwner and @leaseExpiresAt (both NULL, or set with @status 'running') insert it
 * running under a new lease.
 */
export const JOB_INSERT = `
INSERT INTO jobyard_jobs (
  id, queue, task, payload, status, priority, run_at, max_attempts, created_at,
  dedup_key, concurrency_key, concurrency_limit, tags, metadata, timeout_ms,
  attempt, started_at, lease_owner, lease_token, lease_expires_at
) VALUES (
  @id, @queue, @task, @payload, @status, @priority, @runAt, @maxAttempts, @createdAt,
  @dedupKey, @concurrencyKey, @concurrencyLimit, @tags, @metadata, @timeoutMs,
  CASE WHEN @leaseOwner IS NULL THEN 0 ELSE 1 END, CASE WHEN @leaseOwner IS NULL THEN NULL ELSE @createdAt END,
  @leaseOwner, CASE WHEN @leaseOwner IS NULL THEN NULL ELSE ${NEW_LEASE_TOKEN} END, @leaseExpiresAt
)
ON CONFLICT (dedup_key) WHERE ${LIVE_DEDUP} DO NOTHING
RETURNING *`;

/** Reads the live job holding a dedup key. @dedupKey. */
export const JOB_GET_LIVE_BY_DEDUP_KEY = `SELECT * FROM jobyard_jobs WHERE dedup_key = @dedupKey AND ${LIVE_DEDUP}`;

/** Reads one job. @id. */
export const JOB_GET = `SELECT * FROM jobyard_jobs WHERE id = @id`;

/** Reads the parents of a job in its depends_on order (pruned ones are gone). @id. */
export const JOB_PARENTS = `
SELECT parent.* FROM json_each((SELECT depends_on FROM jobyard_jobs WHERE id = @id)) AS listed
JOIN jobyard_jobs AS parent ON parent.id = listed.value
ORDER BY listed.key`;

/** Reads the statuses of would-be parents. @ids (JSON array). */
export const JOB_PARENT_STATUSES = `SELECT id, status FROM jobyard_jobs WHERE id IN (SELECT value FROM json_each(@ids))`;

/** Records that a child waits for parents, and marks the parents as having children. @childId, @parentIds (JSON array). */
export const JOB_DEPENDENCIES_INSERT = `
INSERT INTO jobyard_job_dependencies (parent_id, child_id) SELECT value, @childId FROM json_each(@parentIds)`;
export const JOB_PARENTS_MARK = `
UPDATE jobyard_jobs SET has_dependents = 1 WHERE id IN (SELECT value FROM json_each(@parentIds)) AND has_dependents = 0`;

/**
 * Sets how a new child waits: due at @now when no parent is left to wait for.
 * @id, @dependsOn (JSON array), @waitingParents, @onParentFailure, @now.
 */
export const JOB_CHILD_LINK = `
UPDATE jobyard_jobs SET depends_on = @dependsOn, waiting_parents = @waitingParents, on_parent_failure = @onParentFailure,
  run_at = CASE WHEN @waitingParents = 0 THEN @now ELSE run_at END
WHERE id = @id
RETURNING *`;

/**
 * Reads the next claimable jobs of one queue in claim order, skipping jobs whose concurrency
 * key is saturated. @queue, @now, @limit.
 */
export const JOB_CLAIM_CANDIDATES = `
SELECT id, priority, run_at, concurrency_key FROM jobyard_jobs
WHERE ${WAITING} AND queue = @queue AND run_at <= @now AND ${CONCURRENCY_SLOT_FREE}
ORDER BY priority DESC, run_at, id
LIMIT @limit`;

/**
 * Starts an attempt of one candidate under a new lease, if it is still waiting and its
 * concurrency key still has a free slot. @id, @now, @workerId, @leaseExpiresAt.
 */
export const JOB_CLAIM = `
UPDATE jobyard_jobs SET
  status = 'running', attempt = attempt + 1, started_at = @now,
  lease_owner = @workerId, lease_token = ${NEW_LEASE_TOKEN}, lease_expires_at = @leaseExpiresAt,
  cancel_requested = 0
WHERE id = @id AND ${WAITING} AND ${CONCURRENCY_SLOT_FREE}
RETURNING *`;

/**
 * Starts attempts of candidates without a concurrency key, in one statement (the claim
 * transaction holds the write lock, so they are still waiting). Each gets a new random
 * lease token. Returns the claimed rows in no particular order.
 * @ids (JSON array of ids), @now, @workerId, @leaseExpiresAt.
 */
export const JOB_CLAIM_UNKEYED = `
UPDATE jobyard_jobs SET
  status = 'running', attempt = attempt + 1, started_at = @now,
  lease_owner = @workerId, lease_token = ${NEW_LEASE_TOKEN}, lease_expires_at = @leaseExpiresAt,
  cancel_requested = 0
WHERE id IN (SELECT value FROM json_each(@ids)) AND ${WAITING} AND concurrency_key IS NULL
RETURNING *`;

// The settle statements return the job's queue when the lease fence held, nothing otherwise.

/**
 * Settles attempts as completed in one statement, each fenced by its lease token: stores
 * the result and progress 1. Returns the ids of the jobs it settled.
 * @settles (JSON array of {id, leaseToken, result?}, result omitted for none), @now.
 */
export const JOB_SETTLE_COMPLETED_MANY = `
UPDATE jobyard_jobs SET status = 'completed', result = settle.value -> '$.result', progress = 1, finished_at = @now,
  ${LEASE_CLEARED}
FROM json_each(@settles) AS settle
WHERE jobyard_jobs.id = settle.value ->> '$.id' AND jobyard_jobs.lease_token = settle.value ->> '$.leaseToken'
  AND jobyard_jobs.status = 'running'
RETURNING jobyard_jobs.id`;

/** Settles a failed attempt that runs again at @runAt. @id, @leaseToken, @error (JSON text), @runAt. */
export const JOB_SETTLE_RETRY = `
UPDATE jobyard_jobs SET status = 'retryable', run_at = @runAt, errors = ${APPEND_ERROR}, ${LEASE_CLEARED}
WHERE ${LEASE_HELD}
RETURNING queue`;

/**
 * Settles an attempt as final without a result. @id, @leaseToken, @status ('failed' or
 * 'cancelled'), @error (JSON text, or NULL to keep errors as they are), @now.
 */
export const JOB_SETTLE_FINISHED = `
UPDATE jobyard_jobs SET
  status = @status, finished_at = @now,
  errors = CASE WHEN @error IS NULL THEN errors ELSE ${APPEND_ERROR} END,
  ${LEASE_CLEARED}
WHERE ${LEASE_HELD}
RETURNING queue`;

/**
 * Hands an attempt back without spending it. @id, @leaseToken, @status ('available' or
 * 'scheduled'), @runAt.
 */
export const JOB_SETTLE_RELEASED = `
UPDATE jobyard_jobs SET status = @status, run_at = @runAt, attempt = attempt - 1, ${LEASE_CLEARED}
WHERE ${LEASE_HELD}
RETURNING queue`;

/** Extends a held lease; returns the cancel flag, or nothing when the lease is lost. @id, @leaseToken, @leaseExpiresAt. */
export const JOB_LEASE_RENEW = `
UPDATE jobyard_jobs SET lease_expires_at = @leaseExpiresAt
WHERE ${LEASE_HELD}
RETURNING cancel_requested`;

/**
 * Records a durable step of a running attempt: replaces the step of the same name, else
 * appends it. @id, @leaseToken, @name, @step (JSON text).
 */
export const JOB_STEP_SAVE = `
UPDATE jobyard_jobs SET steps = CASE
  WHEN EXISTS (SELECT 1 FROM json_each(jobyard_jobs.steps) WHERE value ->> '$.name' = @name)
  THEN (SELECT json_group_array(json(step)) FROM (
    SELECT CASE WHEN value ->> '$.name' = @name THEN @step ELSE value END AS step
    FROM json_each(jobyard_jobs.steps) ORDER BY key))
  ELSE json_insert(coalesce(steps, '[]'), '$[#]', json(@step))
END
WHERE ${LEASE_HELD}`;

/** Stores the progress of a running attempt. @id, @leaseToken, @progress, @message. */
export const JOB_PROGRESS = `
UPDATE jobyard_jobs SET progress = @progress, progress_message = @message
WHERE ${LEASE_HELD}`;

/**
 * Rescues up to @limit running jobs whose lease expired before @now: appends a "lease
 * expired" error for the attempt, then retryable at @now while attempts remain, else failed.
 * @now, @nowIso (the error's time), @limit.
 */
export const JOB_RESCUE_EXPIRED = `
UPDATE jobyard_jobs SET
  errors = json_insert(errors, '$[#]', json_object('attempt', attempt, 'at', @nowIso, 'message', 'lease expired')),
  status = CASE WHEN attempt < max_attempts THEN 'retryable' ELSE 'failed' END,
  run_at = CASE WHEN attempt < max_attempts THEN @now ELSE run_at END,
  finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE @now END,
  ${LEASE_CLEARED}
WHERE id IN (
  SELECT id FROM jobyard_jobs
  WHERE status = 'running' AND lease_expires_at < @now
  ORDER BY lease_expires_at
  LIMIT @limit)
RETURNING *`;

// A NULL parameter disables its filter. @statuses, @metadata are JSON text (a list of
// statuses; an object of field values compared with their JSON type).
const LIST_FILTER = `
  (@queue IS NULL OR queue = @queue)
  AND (@task IS NULL OR task = @task)
  AND (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
  AND (@tag IS NULL OR EXISTS (SELECT 1 FROM json_each(jobyard_jobs.tags) AS tag WHERE tag.value = @tag))
  AND (@dedupKey IS NULL OR dedup_key = @dedupKey)
  AND (@metadata IS NULL OR NOT EXISTS (
    SELECT 1 FROM json_each(@metadata) AS wanted
    WHERE json_type(jobyard_jobs.metadata, wanted.fullkey) IS NOT wanted.type
       OR json_extract(jobyard_jobs.metadata, wanted.fullkey) IS NOT wanted.value))`;

/**
 * jobList is the statement listing matching jobs newest first: the first page, or the page
 * of jobs older than the cursor job @after. With `byDedupKey` it also states
 * `dedup_key = @dedupKey` on its own, because SQLite uses no index for a condition behind
 * "@p IS NULL OR", and a dedup key lookup should read its index rather than the table.
 * Filter parameters, @limit (and @after for older pages).
 */
export function jobList(page: 'newest' | 'older', byDedupKey: boolean): string {
  const conditions = [
    ...(page === 'older' ? ['id < @after'] : []),
    ...(byDedupKey ? ['dedup_key = @dedupKey'] : []),
    LIST_FILTER,
  ];
  return `SELECT * FROM jobyard_jobs WHERE ${conditions.join(' AND ')} ORDER BY id DESC LIMIT @limit`;
}

/** Cancels a waiting job at once. @id, @now. */
export const JOB_CANCEL_WAITING = `
UPDATE jobyard_jobs SET status = 'cancelled', finished_at = @now
WHERE id = @id AND ${WAITING}
RETURNING *`;

/** Asks the worker of a running job to abort it. @id. */
export const JOB_CANCEL_REQUEST = `
UPDATE jobyard_jobs SET cancel_requested = 1
WHERE id = @id AND status = 'running'
RETURNING *`;

/**
 * Puts a failed or cancelled job back to available at @now, keeping its errors and attempts;
 * grants one more attempt when all were spent. @id, @now.
 */
export const JOB_RETRY = `
UPDATE jobyard_jobs SET
  status = 'available', run_at = @now, finished_at = NULL, cancel_requested = 0,
  max_attempts = CASE WHEN attempt >= max_attempts THEN max_attempts + 1 ELSE max_attempts END
WHERE id = @id AND status IN ('failed', 'cancelled')
RETURNING *`;

/**
 * Deletes up to @batchSize jobs in the final statuses @statuses (JSON list) that finished
 * before @olderThan.
 */
export const JOB_PRUNE_BATCH = `
DELETE FROM jobyard_jobs
WHERE id IN (
  SELECT id FROM jobyard_jobs
  WHERE ${FINAL} AND status IN (SELECT value FROM json_each(@statuses)) AND finished_at < @olderThan
  LIMIT @batchSize)`;

/** Deletes a finished job; returns it when deleted. @id. */
export const JOB_DELETE_FINISHED = `
DELETE FROM jobyard_jobs
WHERE id = @id AND ${FINAL}
RETURNING *`;

/**
 * Pauses a queue unless it is paused already; returns the pause (the first pause time stays:
 * the no-op update only makes RETURNING give the existing row). @queue, @pausedAt.
 */
export const QUEUE_PAUSE = `
INSERT INTO jobyard_paused_queues (queue, paused_at) VALUES (@queue, @pausedAt)
ON CONFLICT (queue) DO UPDATE SET queue = excluded.queue
RETURNING queue, paused_at`;

/** Resumes a queue. @queue. */
export const QUEUE_RESUME = `DELETE FROM jobyard_paused_queues WHERE queue = @queue`;

/** Lists the paused queues by name. No parameters. */
export const QUEUE_PAUSES = `SELECT queue, paused_at FROM jobyard_paused_queues ORDER BY queue`;

/** Counts jobs per queue and status. No parameters. */
export const QUEUE_STATS = `
SELECT queue, status, count(*) AS count FROM jobyard_jobs
GROUP BY queue, status
ORDER BY queue, status`;

/**
 * Lists running jobs started before @stuckBefore, oldest start first, at most @limit, each
 * with the count of all such jobs (`total`). Reads running jobs through the lease-expiry
 * partial index, whose condition it states.
 */
export const JOB_STUCK = `
SELECT id, queue, task, attempt, started_at, lease_owner, count(*) OVER () AS total
FROM jobyard_jobs
WHERE status = 'running' AND started_at < @stuckBefore
ORDER BY started_at, id
LIMIT @limit`;

/** Counts jobs per final status finished at or after @since, through the prune index. */
export const JOB_FINISHED_COUNTS = `
SELECT status, count(*) AS count FROM jobyard_jobs
WHERE ${FINAL} AND finished_at >= @since
GROUP BY status`;

/**
 * Inserts a schedule unless one has its id; returns the new row, or nothing.
 * One parameter per column (@id, @name, ... @updatedAt).
 */
export const SCHEDULE_INSERT = `
INSERT INTO jobyard_schedules (
  id, name, task, payload, trigger, paused, misfire_grace_ms, coalesce_missed, max_instances,
  jitter_ms, job_options, definition_hash, next_run_at, last_run_at, created_at, updated_at
) VALUES (
  @id, @name, @task, @payload, @trigger, @paused, @misfireGraceMs, @coalesce, @maxInstances,
  @jitterMs, @jobOptions, @definitionHash, @nextRunAt, @lastRunAt, @createdAt, @updatedAt
)
ON CONFLICT (id) DO NOTHING
RETURNING *`;

/** Rewrites the editable columns of a schedule. One parameter per editable column, @id, @updatedAt. */
export const SCHEDULE_UPDATE = `
UPDATE jobyard_schedules SET
  name = @name, task = @task, payload = @payload, trigger = @trigger, paused = @paused,
  misfire_grace_ms = @misfireGraceMs, coalesce_missed = @coalesce, max_instances = @maxInstances,
  jitter_ms = @jitterMs, job_options = @jobOptions, definition_hash = @definitionHash,
  next_run_at = @nextRunAt, updated_at = @updatedAt
WHERE id = @id
RETURNING *`;

/** Deletes a schedule (its fires go with it). @id. */
export const SCHEDULE_DELETE = `DELETE FROM jobyard_schedules WHERE id = @id`;

/** Reads one schedule. @id. */
export const SCHEDULE_GET = `SELECT * FROM jobyard_schedules WHERE id = @id`;

/** Reads every schedule. No parameters. */
export const SCHEDULE_LIST = `SELECT * FROM jobyard_schedules ORDER BY id`;

/** Reads schedules due at @now that are not paused, earliest first. @now, @limit. */
export const SCHEDULE_DUE = `
SELECT * FROM jobyard_schedules
WHERE paused = 0 AND next_run_at IS NOT NULL AND next_run_at <= @now
ORDER BY next_run_at, id
LIMIT @limit`;

/**
 * Moves next_run_at from @from to @to if it still is @from (the fire-time compare-and-set);
 * returns max_instances when it moved. @id, @from, @to.
 */
export const SCHEDULE_ADVANCE = `
UPDATE jobyard_schedules SET next_run_at = @to
WHERE id = @id AND next_run_at = @from
RETURNING max_instances`;

/** Sets last_run_at to @lastRunAt unless it is already later. @id, @lastRunAt. */
export const SCHEDULE_SET_LAST_RUN = `
UPDATE jobyard_schedules SET last_run_at = max(coalesce(last_run_at, @lastRunAt), @lastRunAt)
WHERE id = @id`;

/**
 * Records a fire time (or a manual run, @manual = 1) unless it already has a row; returns the
 * row when recorded. @scheduleId, @fireAt, @manual, @outcome, @jobId, @reason, @recordedAt.
 */
export const SCHEDULE_FIRE_INSERT = `
INSERT INTO jobyard_schedule_fires (schedule_id, fire_at, manual, outcome, job_id, reason, recorded_at)
VALUES (@scheduleId, @fireAt, @manual, @outcome, @jobId, @reason, @recordedAt)
ON CONFLICT (schedule_id, fire_at, manual) DO NOTHING
RETURNING *`;

/**
 * Turns a fire recorded as enqueued into a skip whose job was not inserted (a live job holds
 * its dedup key); returns the row. @scheduleId, @fireAt, @manual, @jobId, @reason.
 */
export const SCHEDULE_FIRE_SKIP = `
UPDATE jobyard_schedule_fires SET outcome = 'skipped', job_id = @jobId, reason = @reason
WHERE schedule_id = @scheduleId AND fire_at = @fireAt AND manual = @manual
RETURNING *`;

/** Counts a schedule's live jobs (waiting or running), by the mark in their metadata. @scheduleId. */
export const SCHEDULE_LIVE_JOBS = `
SELECT count(*) AS count FROM jobyard_jobs
WHERE json_extract(metadata, '$.jobyardScheduleId') = @scheduleId
  AND status IN ('scheduled', 'available', 'running', 'retryable')
  AND json_extract(metadata, '$.jobyardScheduleId') IS NOT NULL`;

/** Lists a schedule's fire records, latest first (at one instant the trigger's before the manual run). @scheduleId, @limit. */
export const SCHEDULE_HISTORY = `
SELECT * FROM jobyard_schedule_fires
WHERE schedule_id = @scheduleId
ORDER BY fire_at DESC, manual
LIMIT @limit`;

// ---------------------------------------------------------------------------------------
// API tokens

/**
 * Inserts an API token unless a live token has its name (or its id or hash exists); returns
 * the row when inserted. @id, @name, @role, @secretHash, @createdAt.
 */
export const TOKEN_INSERT = `
INSERT INTO jobyard_api_tokens (id, name, role, secret_hash, created_at)
VALUES (@id, @name, @role, @secretHash, @createdAt)
ON CONFLICT DO NOTHING
RETURNING *`;

/** Reads the live token of a secret hash. @secretHash. */
export const TOKEN_FIND_BY_HASH = `SELECT * FROM jobyard_api_tokens WHERE secret_hash = @secretHash AND revoked_at IS NULL`;

/** Reads one token, revoked or not. @id. */
export const TOKEN_GET = `SELECT * FROM jobyard_api_tokens WHERE id = @id`;

/** Reads the live token of a name. @name. */
export const TOKEN_GET_LIVE_BY_NAME = `SELECT * FROM jobyard_api_tokens WHERE name = @name AND revoked_at IS NULL`;

/** Lists tokens oldest first; revoked ones only when @includeRevoked is 1. @includeRevoked. */
export const TOKEN_LIST = `
SELECT * FROM jobyard_api_tokens
WHERE @includeRevoked = 1 OR revoked_at IS NULL
ORDER BY created_at, id`;

/** Revokes a live token; returns the row when it was live. @id, @now. */
export const TOKEN_REVOKE = `
UPDATE jobyard_api_tokens SET revoked_at = @now
WHERE id = @id AND revoked_at IS NULL
RETURNING *`;

/** Sets last_used_at to @now unless it is already later. @id, @now. */
export const TOKEN_MARK_USED = `
UPDATE jobyard_api_tokens SET last_used_at = @now
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @now)`;

// ---------------------------------------------------------------------------------------
// Rate limits

/** Reads the time a rate limit key is whole again (epoch ms). @key. */
export const RATE_LIMIT_GET = `SELECT reset_at FROM jobyard_rate_limits WHERE key = @key`;

/** Stores the time a rate limit key is whole again. @key, @resetAt. */
export const RATE_LIMIT_SET = `
INSERT INTO jobyard_rate_limits (key, reset_at) VALUES (@key, @resetAt)
ON CONFLICT (key) DO UPDATE SET reset_at = excluded.reset_at`;

/** Deletes up to @batchSize keys that are whole again at @now. */
export const RATE_LIMIT_PRUNE_BATCH = `
DELETE FROM jobyard_rate_limits WHERE key IN (
  SELECT key FROM jobyard_rate_limits WHERE reset_at <= @now LIMIT @batchSize
)`;

// ---------------------------------------------------------------------------------------
// Audit log

/** Appends an audit entry and returns it. One parameter per column but the id. */
export const AUDIT_APPEND = `
INSERT INTO jobyard_audit_log (
  at, principal_id, principal_name, principal_role, action, target, outcome, status, request_id, client_address
) VALUES (
  @at, @principalId, @principalName, @principalRole, @action, @target, @outcome, @status, @requestId, @clientAddress
)
RETURNING *`;

/** AuditListConditions are the filters a list of audit entries applies, each bound by name. */
export type AuditListCondition = 'principalId' | 'action' | 'target' | 'outcome' | 'from' | 'to' | 'after';

const AUDIT_CONDITIONS: Record<AuditListCondition, string> = {
  principalId: 'principal_id = @principalId',
  action: 'action = @action',
  target: 'target = @target',
  outcome: 'outcome = @outcome',
  from: 'at >= @from',
  to: 'at < @to',
  after: 'id < @after',
};

/**
 * Lists audit entries newest first with only the given conditions (so that SQLite can use
 * the index of a selective one): @principalId, @action, @target, @outcome, @from (at >=),
 * @to (at <), @after (id <); then @limit.
 */
export function auditList(conditions: AuditListCondition[]): string {
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.map((name) => AUDIT_CONDITIONS[name]).join(' AND ')}`;
  return `SELECT * FROM jobyard_audit_log ${where} ORDER BY id DESC LIMIT @limit`;
}

/** Deletes up to @batchSize entries recorded before @olderThan. */
export const AUDIT_PRUNE_BATCH = `
DELETE FROM jobyard_audit_log WHERE id IN (
  SELECT id FROM jobyard_audit_log WHERE at < @olderThan LIMIT @batchSize
)`;
