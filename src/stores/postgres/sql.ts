/**
 * Every SQL statement of the PostgreSQL store, as a function of the (validated) schema
 * name. Hot statements carry a `name` so node-postgres prepares them once per connection.
 * Times are always parameters (the caller's clock), never the database's now().
 */

/** Statement is a query text, named when node-postgres should keep it prepared. */
export interface Statement {
  name?: string;
  text: string;
}

/**
 * Status lists as SQL, shared with the migrations: the partial indexes are only used (and
 * ON CONFLICT only finds the dedup index) when a query repeats their predicate exactly.
 */
export const WAITING = `('scheduled', 'available', 'retryable')`;
export const LIVE = `('scheduled', 'available', 'running', 'retryable')`;
export const FINAL = `('completed', 'failed', 'cancelled')`;

/** leaseHeld is the fence of every write of an attempt: job `alias` still runs under the lease token of `input`. */
function leaseHeld(alias: string, input: string): string {
  return `${alias}.id = ${input}.id AND ${alias}.lease_token = ${input}.lease_token AND ${alias}.status = 'running'`;
}

/** Clears the lease of a job leaving `running`. */
const LEASE_CLEARED = 'lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL';

/** Name of the unique index that allows one live job per dedup key (created by migration 1). */
export const LIVE_DEDUP_KEY_INDEX = 'jobs_live_dedup_key_idx';

/** The columns that make a Job (the lease token stays out: only a claim hands it out). */
const JOB_COLUMNS =
  'id, queue, task, payload, status, priority, run_at, attempt, max_attempts, created_at, started_at, finished_at, ' +
  'result, errors, progress, progress_message, dedup_key, concurrency_key, concurrency_limit, tags, metadata, ' +
  'timeout_ms, lease_owner, lease_expires_at, cancel_requested, steps, depends_on';

function jobColumns(alias: string): string {
  return JOB_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

function quote(schema: string): string {
  return `"${schema}"`;
}

/** notificationChannel is the LISTEN/NOTIFY channel of a schema. */
export function notificationChannel(schema: string): string {
  return `${schema}_events`;
}

/** listen subscribes the listener's session to the schema's channel. No parameters. */
export function listen(schema: string): Statement {
  return { text: `LISTEN ${quote(notificationChannel(schema))}` };
}

/**
 * eventChannel is the channel of a schema's event records: apart from the workers' channel,
 * so that only sessions streaming events receive (and parse) them.
 */
export function eventChannel(schema: string): string {
  return `${schema}_event_records`;
}

/** listenEvents subscribes the listener's session to the schema's event channel. No parameters. */
export function listenEvents(schema: string): Statement {
  return { text: `LISTEN ${quote(eventChannel(schema))}` };
}

/** unlistenEvents ends the listener's subscription to the schema's event channel. No parameters. */
export function unlistenEvents(schema: string): Statement {
  return { text: `UNLISTEN ${quote(eventChannel(schema))}` };
}

/** disableJit turns JIT compilation off for the session. No parameters. */
export const disableJit: Statement = { text: 'SET jit = off' };

/** ping checks that the server answers. No parameters. */
export const ping: Statement = { text: 'SELECT 1' };

// ---------------------------------------------------------------------------------------
// Migrations bookkeeping

/** migrationLock takes the session-level migration lock. $1 lock name (text). */
export const migrationLock: Statement = { text: 'SELECT pg_advisory_lock(hashtextextended($1::text, 0))' };

/** migrationUnlock releases the lock taken by migrationLock. $1 lock name (text). */
export const migrationUnlock: Statement = { text: 'SELECT pg_advisory_unlock(hashtextextended($1::text, 0))' };

/** createSchema creates the schema when missing. No parameters. */
export function createSchema(schema: string): Statement {
  return { text: `CREATE SCHEMA IF NOT EXISTS ${quote(schema)}` };
}

/** createMigrationsTable creates the table recording applied migrations. No parameters. */
export function createMigrationsTable(schema: string): Statement {
  return {
    text: `CREATE TABLE IF NOT EXISTS ${quote(schema)}.migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`,
  };
}

/** selectRecordedMigrations reads the versions of the applied migrations, ascending. No parameters. */
export function selectRecordedMigrations(schema: string): Statement {
  return { text: `SELECT version FROM ${quote(schema)}.migrations ORDER BY version` };
}

/** recordMigration marks a migration applied. $1 version (int), $2 name (text). */
export function recordMigration(schema: string): Statement {
  return { text: `INSERT INTO ${quote(schema)}.migrations (version, name) VALUES ($1::int, $2::text)` };
}

// ---------------------------------------------------------------------------------------
// Jobs

/**
 * insertJobs inserts a batch in one statement; a job whose dedup key matches a live job is
 * skipped (ON CONFLICT on the partial unique index), so the result lists only the ids (and
 * lease tokens of jobs inserted running, with a lease owner) of inserted rows (the caller
 * knows their content). With a channel, each queue that got `available` jobs is notified
 * once, inside the same transaction (for inserts that join the caller's transaction; see
 * announceQueues for the others). A job given a lease owner is inserted running under a new
 * lease only while its queue is not paused (the check runs for leased jobs only, so plain
 * inserts never read paused_queues); otherwise as if it had none. Statuses are those of the
 * jobs without their lease. The jobs come as one array per column, unnested side by
 * side: a 50,000-job batch as one jsonb document spent 390 ms of a 1.1 s insert parsing it
 * (and spilled to temporary files), the arrays ~35% less in all.
 * $1 ids (uuid[]), $2 queues, $3 tasks (text[]), $4 payloads (jsonb[]), $5 statuses (text[]),
 * $6 priorities (int[]), $7 run_at (timestamptz[]), $8 max attempts (int[]), $9 created_at
 * (timestamptz[]), $10 dedup keys, $11 concurrency keys (text[]), $12 concurrency limits
 * (int[]), $13 tags (jsonb[], arrays of strings), $14 metadata (jsonb[]), $15 timeouts (int[]),
 * $16 lease owners (text[]), $17 lease expiries (timestamptz[]), $18 channel (text, or null).
 * Returns the id and lease token (null when not leased) of each inserted job.
 */
export function insertJobs(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:insert`,
    text: `WITH input AS (
  SELECT unnest($1::uuid[]) AS id, unnest($2::text[]) AS queue, unnest($3::text[]) AS task,
    unnest($4::jsonb[]) AS payload, unnest($5::text[]) AS status, unnest($6::int[]) AS priority,
    unnest($7::timestamptz[]) AS run_at, unnest($8::int[]) AS max_attempts,
    unnest($9::timestamptz[]) AS created_at, unnest($10::text[]) AS dedup_key,
    unnest($11::text[]) AS concurrency_key, unnest($12::int[]) AS concurrency_limit,
    unnest($13::jsonb[]) AS tags, unnest($14::jsonb[]) AS metadata, unnest($15::int[]) AS timeout_ms,
    unnest($16::text[]) AS requested_owner, unnest($17::timestamptz[]) AS requested_expiry
),
leased AS (
  SELECT input.*, CASE WHEN requested_owner IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ${s}.paused_queues p WHERE p.queue = input.queue)
    THEN requested_owner END AS lease_owner
  FROM input
),
inserted AS (
  INSERT INTO ${s}.jobs (id, queue, task, payload, status, priority, run_at, max_attempts, created_at,
    dedup_key, concurrency_key, concurrency_limit, tags, metadata, timeout_ms,
    attempt, started_at, lease_owner, lease_token, lease_expires_at)
  SELECT id, queue, task, payload, CASE WHEN lease_owner IS NULL THEN status ELSE 'running' END, priority, run_at,
    max_attempts, created_at,
    dedup_key, concurrency_key, concurrency_limit, ARRAY(SELECT jsonb_array_elements_text(tags)), metadata, timeout_ms,
    CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END, CASE WHEN lease_owner IS NULL THEN NULL ELSE created_at END,
    lease_owner, CASE WHEN lease_owner IS NULL THEN NULL ELSE gen_random_uuid() END,
    CASE WHEN lease_owner IS NULL THEN NULL ELSE requested_expiry END
  FROM leased
  ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND status IN ${LIVE} DO NOTHING
  RETURNING id, queue, status, lease_token
),
notified AS (
  SELECT count(pg_notify($18::text, json_build_object('type', 'jobs_available', 'queue', q.queue)::text)) AS sent
  FROM (SELECT DISTINCT queue FROM inserted WHERE status = 'available') q
  WHERE $18::text IS NOT NULL
)
SELECT inserted.id, inserted.lease_token FROM inserted, notified`,
  };
}

/**
 * announceQueues notifies `jobs_available` for queues whose jobs are already committed. A
 * transaction that NOTIFYs holds a database-wide lock from its commit until its WAL is
 * flushed, so NOTIFY inside every enqueue serializes all enqueues (measured: 5x fewer
 * concurrent single-job inserts per second). Sent afterwards in a transaction of its own
 * with synchronous_commit off (a notification needs no durability), the lock is held only
 * for an instant and the inserts keep committing in parallel. Each notification names its
 * sender, so the sending store can skip its own echo (it told its subscribers already).
 * $1 channel (text), $2 queues (text[]), $3 sender (text).
 */
export const announceQueues: Statement = {
  name: 'jobyard:announce',
  text: `SELECT count(pg_notify($1::text,
  json_build_object('type', 'jobs_available', 'queue', q.queue, 'source', $3::text)::text)) AS sent
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit, unnest($2::text[]) AS q(queue)`,
};

/**
 * publishEvents sends prepared payloads (each under the 8000-byte limit) on a channel, all
 * in one statement and one short transaction with synchronous_commit off, for the same
 * reason as announceQueues. unnest yields them in array order, which is the order they are
 * delivered in. $1 channel (text), $2 payloads (text[]).
 */
export const publishEvents: Statement = {
  name: 'jobyard:publish-events',
  text: `SELECT count(pg_notify($1::text, p.payload)) AS sent
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit, unnest($2::text[]) AS p(payload)`,
};

/** selectLiveJobsByDedupKey finds the live jobs holding dedup keys. $1 keys (text[]). */
export function selectLiveJobsByDedupKey(schema: string): Statement {
  return {
    name: `jobyard:${schema}:dedup-lookup`,
    text: `SELECT ${JOB_COLUMNS} FROM ${quote(schema)}.jobs
WHERE dedup_key = ANY($1::text[]) AND dedup_key IS NOT NULL AND status IN ${LIVE}`,
  };
}

/**
 * claimJobs claims due jobs in one statement. Per queue that is not paused (the queue list
 * anti-joined with paused_queues, a table of a few rows) it walks the waiting index in claim
 * order with FOR UPDATE SKIP LOCKED, skipping jobs whose concurrency key looks full; the
 * merged best `limit` become candidates. Jobs without a key are started here; jobs with a
 * key go through claim_keyed (advisory lock per key, recount, start) and only when there
 * are any, so the common path never calls it. The claim commits without waiting for its WAL flush
 * (synchronous_commit off for this transaction): it is on the path from enqueue to start,
 * and a claim lost in a server crash only puts the job back to waiting, where it runs again
 * (at least once, as after any crash; the lost lease token fences the old attempt's writes). Always returns one row at least: the first
 * column counts keyed candidates that claim_keyed turned down (the caller may try again
 * for the rest of its limit), the job columns are null when nothing was claimed.
 * $1 queues (text[], distinct), $2 now (timestamptz), $3 limit (int), $4 worker id (text),
 * $5 lease length in ms (double precision).
 */
export function claimJobs(schema: string): Statement {
  const s = quote(schema);
  const claimedColumns = `${JOB_COLUMNS}, lease_token`;
  return {
    name: `jobyard:${schema}:claim`,
    text: `WITH candidates AS MATERIALIZED (
  SELECT picked.id, picked.concurrency_key
  FROM (
    SELECT u.name FROM unnest($1::text[]) AS u(name)
    WHERE NOT EXISTS (SELECT 1 FROM ${s}.paused_queues p WHERE p.queue = u.name)
  ) q
  CROSS JOIN LATERAL (
    SELECT j.id, j.concurrency_key, j.priority, j.run_at
    FROM ${s}.jobs j
    WHERE j.status IN ${WAITING} AND j.queue = q.name AND j.run_at <= $2::timestamptz
      AND (j.concurrency_key IS NULL OR (j.concurrency_key, j.concurrency_limit) NOT IN (
        SELECT full_key.concurrency_key, generate_series(1, full_key.running)
        FROM (
          SELECT concurrency_key, count(*)::int AS running FROM ${s}.jobs
          WHERE status = 'running' AND concurrency_key IS NOT NULL
          GROUP BY concurrency_key
        ) full_key))
    ORDER BY j.priority DESC, j.run_at, j.id
    LIMIT $3::int
    FOR UPDATE SKIP LOCKED
  ) picked
  ORDER BY picked.priority DESC, picked.run_at, picked.id
  LIMIT $3::int
),
claimed AS (
  UPDATE ${s}.jobs j SET
    status = 'running', attempt = j.attempt + 1, started_at = $2::timestamptz, lease_owner = $4::text,
    lease_token = gen_random_uuid(),
    lease_expires_at = $2::timestamptz + $5::double precision * interval '1 millisecond',
    cancel_requested = false
  FROM candidates c
  WHERE j.id = c.id AND c.concurrency_key IS NULL
  RETURNING ${jobColumns('j')}, j.lease_token
),
keyed AS (
  SELECT * FROM ${s}.claim_keyed(
    ARRAY(SELECT id FROM candidates WHERE concurrency_key IS NOT NULL),
    $4::text, $2::timestamptz, $5::double precision)
  WHERE EXISTS (SELECT 1 FROM candidates WHERE concurrency_key IS NOT NULL)
)
SELECT outcome.keyed_refused, started.*
FROM (
  SELECT (SELECT count(*) FROM candidates WHERE concurrency_key IS NOT NULL)::int
    - (SELECT count(*) FROM keyed)::int AS keyed_refused,
    set_config('synchronous_commit', 'off', true) AS async_commit
) outcome
LEFT JOIN (
  SELECT ${claimedColumns} FROM claimed
  UNION ALL
  SELECT ${claimedColumns} FROM keyed
) started ON true`,
  };
}

/**
 * settleJobs records attempt outcomes in one statement, fenced by id + lease token +
 * status running. Returns the `index` of every applied outcome.
 * $1 outcomes (jsonb array of {index, id, lease_token, kind, result, error, run_at}),
 * $2 now (timestamptz). kind is completed | retry | failed | cancelled | released.
 */
export function settleJobs(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:settle`,
    text: `WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    index int, id uuid, lease_token uuid, kind text, result jsonb, error jsonb, run_at timestamptz)
)
UPDATE ${s}.jobs j SET
  status = CASE i.kind
    WHEN 'completed' THEN 'completed'
    WHEN 'retry' THEN 'retryable'
    WHEN 'failed' THEN 'failed'
    WHEN 'cancelled' THEN 'cancelled'
    ELSE CASE WHEN i.run_at <= $2::timestamptz THEN 'available' ELSE 'scheduled' END
  END,
  result = CASE WHEN i.kind = 'completed' THEN i.result ELSE j.result END,
  progress = CASE WHEN i.kind = 'completed' THEN 1 ELSE j.progress END,
  errors = CASE WHEN i.error IS NULL THEN j.errors ELSE j.errors || jsonb_build_array(i.error) END,
  run_at = CASE WHEN i.kind IN ('retry', 'released') THEN i.run_at ELSE j.run_at END,
  attempt = CASE WHEN i.kind = 'released' THEN greatest(j.attempt - 1, 0) ELSE j.attempt END,
  finished_at = CASE WHEN i.kind IN ('completed', 'failed', 'cancelled') THEN $2::timestamptz END,
  ${LEASE_CLEARED}
FROM input i
WHERE ${leaseHeld('j', 'i')}
RETURNING i.index`,
  };
}

/**
 * renewLeases extends held leases to now + lease length, fenced by token. It never waits
 * for a row lock: a job whose row another transaction holds (its settle being written, a
 * cancel request) is skipped this time and renewed at the next heartbeat, still reported
 * as held from the statement's snapshot. Because renewal never waits, it cannot deadlock
 * with a settle batch that locks the same rows in another order.
 * $1 ids (uuid[]), $2 lease tokens (uuid[]), $3 now (timestamptz), $4 lease length in ms
 * (double precision). Returns the index (1-based) and cancel flag of every held lease.
 */
export function renewLeases(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:renew`,
    text: `WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS i(id, lease_token, index)
),
held AS (
  SELECT i.index, j.id, j.cancel_requested FROM input i
  JOIN ${s}.jobs j ON ${leaseHeld('j', 'i')}
),
lockable AS (
  SELECT j.id, j.lease_token FROM input i
  JOIN ${s}.jobs j ON ${leaseHeld('j', 'i')}
  FOR UPDATE OF j SKIP LOCKED
),
renewed AS (
  UPDATE ${s}.jobs j SET lease_expires_at = $3::timestamptz + $4::double precision * interval '1 millisecond'
  FROM lockable l WHERE ${leaseHeld('j', 'l')}
)
SELECT held.index::int AS index, held.cancel_requested FROM held`,
  };
}

/**
 * selectParents reads the parents of a job in its depends_on order (pruned ones are gone).
 * $1 id (uuid).
 */
export function selectParents(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:parents`,
    text: `SELECT ${jobColumns('parent')}
FROM ${s}.jobs child
CROSS JOIN LATERAL unnest(child.depends_on) WITH ORDINALITY AS listed(id, position)
JOIN ${s}.jobs parent ON parent.id = listed.id
WHERE child.id = $1::uuid
ORDER BY listed.position`,
  };
}

/**
 * lockParents reads the statuses of would-be parents and locks them (FOR SHARE) until the
 * transaction ends, so that none reaches a final status before its children's links commit.
 * $1 ids (uuid[]).
 */
export function lockParents(schema: string): Statement {
  return {
    name: `jobyard:${schema}:lock-parents`,
    text: `SELECT id, status FROM ${quote(schema)}.jobs WHERE id = ANY($1::uuid[]) FOR SHARE`,
  };
}

/**
 * insertDependencies records which child waits for which parent, and marks the parents as
 * having children (which arms their settle_children trigger).
 * $1 child ids (uuid[]), $2 parent ids (uuid[]): one edge per position.
 */
export function insertDependencies(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:insert-dependencies`,
    text: `WITH edges AS (
  INSERT INTO ${s}.job_dependencies (child_id, parent_id)
  SELECT * FROM unnest($1::uuid[], $2::uuid[])
  RETURNING parent_id
)
UPDATE ${s}.jobs SET has_dependents = true WHERE id IN (SELECT parent_id FROM edges) AND NOT has_dependents`,
  };
}

/**
 * linkChildren sets how new children wait: due at their creation time when no parent is
 * left to wait for, which is announced at commit. Returns the children.
 * $1 ids (uuid[]), $2 parent ids per child (jsonb[] of arrays), $3 waiting parents (int[]),
 * $4 on parent failure (text[]), $5 creation times (timestamptz[]), $6 notification channel.
 */
export function linkChildren(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:link-children`,
    text: `WITH linked AS (
  UPDATE ${s}.jobs j SET
    depends_on = ARRAY(
      SELECT listed.id::uuid FROM jsonb_array_elements_text(c.parents) WITH ORDINALITY AS listed(id, position)
      ORDER BY listed.position),
    waiting_parents = c.waiting, on_parent_failure = c.policy,
    run_at = CASE WHEN c.waiting = 0 THEN c.created ELSE j.run_at END
  FROM unnest($1::uuid[], $2::jsonb[], $3::int[], $4::text[], $5::timestamptz[]) AS c(id, parents, waiting, policy, created)
  WHERE j.id = c.id
  RETURNING ${jobColumns('j')}, j.waiting_parents
),
announced AS (
  SELECT count(pg_notify($6::text, json_build_object('type', 'jobs_available', 'queue', due.queue)::text)) AS sent
  FROM (SELECT DISTINCT queue FROM linked WHERE waiting_parents = 0) due
)
SELECT linked.* FROM linked, announced`,
  };
}

/**
 * saveStep records a durable step of a running attempt: replaces the step of the same name,
 * else appends it. Fenced by token.
 * $1 id (uuid), $2 lease token (uuid), $3 step name (text), $4 step (jsonb).
 */
export function saveStep(schema: string): Statement {
  return {
    name: `jobyard:${schema}:save-step`,
    text: `UPDATE ${quote(schema)}.jobs SET steps = CASE
  WHEN steps @> jsonb_build_array(jsonb_build_object('name', $3::text))
  THEN (SELECT jsonb_agg(CASE WHEN step ->> 'name' = $3::text THEN $4::jsonb ELSE step END ORDER BY position)
        FROM jsonb_array_elements(steps) WITH ORDINALITY AS existing(step, position))
  ELSE coalesce(steps, '[]'::jsonb) || jsonb_build_array($4::jsonb)
END
WHERE id = $1::uuid AND lease_token = $2::uuid AND status = 'running'`,
  };
}

/**
 * updateProgress stores progress, fenced by token.
 * $1 id (uuid), $2 lease token (uuid), $3 progress (real), $4 message (text or null).
 */
export function updateProgress(schema: string): Statement {
  return {
    name: `jobyard:${schema}:progress`,
    text: `UPDATE ${quote(schema)}.jobs SET progress = $3::real, progress_message = $4::text
WHERE id = $1::uuid AND lease_token = $2::uuid AND status = 'running'`,
  };
}

/**
 * rescueExpiredJobs moves running jobs whose lease expired before now to retryable (at
 * now) or, with no attempts left, to failed; each gets a "lease expired" error record.
 * Notifies each queue that got retryable jobs.
 * $1 now (timestamptz), $2 limit (int), $3 now as ISO 8601 text (for the error record),
 * $4 channel (text).
 */
export function rescueExpiredJobs(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:rescue`,
    text: `WITH expired AS (
  SELECT id FROM ${s}.jobs
  WHERE status = 'running' AND lease_expires_at < $1::timestamptz
  ORDER BY lease_expires_at
  LIMIT $2::int
  FOR UPDATE SKIP LOCKED
),
rescued AS (
  UPDATE ${s}.jobs j SET
    status = CASE WHEN j.attempt < j.max_attempts THEN 'retryable' ELSE 'failed' END,
    run_at = CASE WHEN j.attempt < j.max_attempts THEN $1::timestamptz ELSE j.run_at END,
    finished_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE $1::timestamptz END,
    errors = j.errors || jsonb_build_array(
      jsonb_build_object('attempt', j.attempt, 'at', $3::text, 'message', 'lease expired')),
    ${LEASE_CLEARED}
  FROM expired e
  WHERE j.id = e.id
  RETURNING ${jobColumns('j')}
),
notified AS (
  SELECT count(pg_notify($4::text, json_build_object('type', 'jobs_available', 'queue', q.queue)::text)) AS sent
  FROM (SELECT DISTINCT queue FROM rescued WHERE status = 'retryable') q
)
SELECT rescued.* FROM rescued, notified`,
  };
}

/** selectJob reads one job. $1 id (uuid). */
export function selectJob(schema: string): Statement {
  return { name: `jobyard:${schema}:get`, text: `SELECT ${JOB_COLUMNS} FROM ${quote(schema)}.jobs WHERE id = $1::uuid` };
}

/**
 * cancelJob cancels a waiting job at once or flags a running one (and notifies its
 * worker); final jobs are read back unchanged. Returns zero rows or one, with `changed`.
 * $1 id (uuid), $2 now (timestamptz), $3 channel (text).
 */
export function cancelJob(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:cancel`,
    text: `WITH cancelled AS (
  UPDATE ${s}.jobs SET
    status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
    finished_at = CASE WHEN status = 'running' THEN finished_at ELSE $2::timestamptz END,
    cancel_requested = (status = 'running')
  WHERE id = $1::uuid AND status IN ${LIVE}
  RETURNING ${JOB_COLUMNS}
),
notified AS (
  SELECT count(pg_notify($3::text, json_build_object('type', 'cancel', 'jobId', id)::text)) AS sent
  FROM cancelled WHERE status = 'running'
)
SELECT true AS changed, cancelled.* FROM cancelled, notified
UNION ALL
SELECT false AS changed, ${JOB_COLUMNS} FROM ${s}.jobs
WHERE id = $1::uuid AND NOT EXISTS (SELECT 1 FROM cancelled)`,
  };
}

/**
 * retryJob puts a failed or cancelled job back to available at now, with one more attempt
 * when all were spent, and notifies its queue; other jobs are read back unchanged.
 * Returns zero rows or one, with `changed`. $1 id (uuid), $2 now (timestamptz), $3 channel (text).
 */
export function retryJob(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:retry`,
    text: `WITH retried AS (
  UPDATE ${s}.jobs SET
    status = 'available', run_at = $2::timestamptz, finished_at = NULL, cancel_requested = false,
    max_attempts = CASE WHEN attempt >= max_attempts THEN max_attempts + 1 ELSE max_attempts END
  WHERE id = $1::uuid AND status IN ('failed', 'cancelled')
  RETURNING ${JOB_COLUMNS}
),
notified AS (
  SELECT count(pg_notify($3::text, json_build_object('type', 'jobs_available', 'queue', queue)::text)) AS sent
  FROM retried
)
SELECT true AS changed, retried.* FROM retried, notified
UNION ALL
SELECT false AS changed, ${JOB_COLUMNS} FROM ${s}.jobs
WHERE id = $1::uuid AND NOT EXISTS (SELECT 1 FROM retried)`,
  };
}

/**
 * pruneJobs deletes up to `limit` final jobs of the given statuses finished before a time;
 * rows locked by a concurrent retry are skipped, never waited for.
 * $1 statuses (text[]), $2 finished before (timestamptz), $3 limit (int).
 */
export function pruneJobs(schema: string): Statement {
  const s = quote(schema);
  return {
    name: `jobyard:${schema}:prune`,
    text: `WITH doomed AS (
  SELECT id FROM ${s}.jobs
  WHERE status IN ${FINAL} AND status = ANY($1::text[]) AND finished_at < $2::timestamptz
  LIMIT $3::int
  FOR UPDATE SKIP LOCKED
)
DELETE FROM ${s}.jobs j USING doomed d WHERE j.id = d.id`,
  };
}

/**
 * deleteFinishedJob deletes a finished job; other jobs are read back unchanged. Returns zero
 * rows or one, with `deleted`. $1 id (uuid).
 */
export function deleteFinishedJob(schema: string): Statement {
  const s = quote(schema);
  return {
    text: `WITH deleted AS (
  DELETE FROM ${s}.jobs WHERE id = $1::uuid AND status IN ${FINAL}
  RETURNING ${JOB_COLUMNS}
)
SELECT true AS deleted, deleted.* FROM deleted
UNION ALL
SELECT false AS deleted, ${JOB_COLUMNS} FROM ${s}.jobs
WHERE id = $1::uuid AND NOT EXISTS (SELECT 1 FROM deleted)`,
  };
}

/**
 * pauseQueue pauses a queue unless it is paused already; returns the pause (the first pause
 * time stays: the no-op update only makes RETURNING give the existing row). $1 queue (text),
 * $2 now (timestamptz).
 */
export function pauseQueue(schema: string): Statement {
  return {
    text: `INSERT INTO ${quote(schema)}.paused_queues (queue, paused_at) VALUES ($1::text, $2::timestamptz)
ON CONFLICT (queue) DO UPDATE SET queue = excluded.queue
RETURNING queue, paused_at`,
  };
}

/**
 * resumeQueue resumes a queue and, when it was paused, notifies `jobs_available` for it.
 * Returns one row per resumed queue (zero or one). $1 queue (text), $2 channel (text).
 */
export function resumeQueue(schema: string): Statement {
  return {
    text: `WITH resumed AS (
  DELETE FROM ${quote(schema)}.paused_queues WHERE queue = $1::text RETURNING queue
)
SELECT queue, pg_notify($2::text, json_build_object('type', 'jobs_available', 'queue', queue)::text) AS notified
FROM resumed`,
  };
}

/** selectQueuePauses lists the paused queues by name. No parameters. */
export function selectQueuePauses(schema: string): Statement {
  return { text: `SELECT queue, paused_at FROM ${quote(schema)}.paused_queues ORDER BY queue` };
}

/**
 * selectStuckJobs lists running jobs started before $1 (timestamptz), oldest start first, at
 * most $2 (int), each with the count of all such jobs (`total`). Reads running jobs only,
 * through the lease-expiry partial index.
 */
export function selectStuckJobs(schema: string): Statement {
  return {
    name: `jobyard:${schema}:stuck`,
    text: `SELECT id, queue, task, attempt, started_at, lease_owner, count(*) OVER ()::int AS total
FROM ${quote(schema)}.jobs
WHERE status = 'running' AND started_at < $1::timestamptz
ORDER BY started_at, id
LIMIT $2::int`,
  };
}

/** countFinishedJobs counts jobs per final status finished at or after $1 (timestamptz), through the finished index. */
export function countFinishedJobs(schema: string): Statement {
  return {
    name: `jobyard:${schema}:finished-counts`,
    text: `SELECT status, count(*)::int AS count FROM ${quote(schema)}.jobs
WHERE status IN ${FINAL} AND finished_at >= $1::timestamptz
GROUP BY status`,
  };
}

/** countJobsByQueueAndStatus counts jobs per queue and status. No parameters. */
export function countJobsByQueueAndStatus(schema: string): Statement {
  return {
    name: `jobyard:${schema}:stats`,
    text: `SELECT queue, status, count(*)::int AS count FROM ${quote(schema)}.jobs
GROUP BY queue, status ORDER BY queue, status`,
  };
}

/** JobListQueryFilter is the part of a list query that shapes its WHERE clause. */
export interface JobListQueryFilter {
  queue?: string;
  task?: string;
  statuses?: string[];
  /** JSON text of an object the metadata must contain. */
  metadataJson?: string;
  tag?: string;
  dedupKey?: string;
  after?: string;
}

/**
 * listJobs lists jobs newest first (by id, UUIDv7 being time-ordered), with only the
 * filters given. The parameters follow the filter fields in declaration order, then the
 * limit (int) last.
 */
export function listJobs(schema: string, filter: JobListQueryFilter, limit: number): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const conditions: string[] = [];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(condition(`$${values.length}`));
  };
  if (filter.queue !== undefined) add((p) => `queue = ${p}::text`, filter.queue);
  if (filter.task !== undefined) add((p) => `task = ${p}::text`, filter.task);
  if (filter.statuses !== undefined) add((p) => `status = ANY(${p}::text[])`, filter.statuses);
  if (filter.metadataJson !== undefined) add((p) => `metadata @> ${p}::jsonb`, filter.metadataJson);
  if (filter.tag !== undefined) add((p) => `tags @> ARRAY[${p}::text]`, filter.tag);
  if (filter.dedupKey !== undefined) add((p) => `dedup_key = ${p}::text`, filter.dedupKey);
  if (filter.after !== undefined) add((p) => `id < ${p}::uuid`, filter.after);
  values.push(limit);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return {
    text: `SELECT ${JOB_COLUMNS} FROM ${quote(schema)}.jobs ${where} ORDER BY id DESC LIMIT $${values.length}::int`,
    values,
  };
}

// ---------------------------------------------------------------------------------------
// Schedules

const SCHEDULE_COLUMNS =
  'id, name, task, payload, trigger, paused, misfire_grace_ms, coalesce_missed, max_instances, jitter_ms, ' +
  'job_options, definition_hash, next_run_at, last_run_at, created_at, updated_at';

/**
 * insertSchedule inserts a schedule unless one has its id; returns the row when inserted.
 * $1..$16 the columns in SCHEDULE_COLUMNS order (payload, trigger, job_options as jsonb text).
 */
export function insertSchedule(schema: string): Statement {
  return {
    text: `INSERT INTO ${quote(schema)}.schedules (${SCHEDULE_COLUMNS})
VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15, $16)
ON CONFLICT (id) DO NOTHING
RETURNING ${SCHEDULE_COLUMNS}`,
  };
}

/**
 * updateSchedule rewrites the editable columns. $1 id, $2..$13 name, task, payload, trigger,
 * paused, misfire_grace_ms, coalesce_missed, max_instances, jitter_ms, job_options,
 * definition_hash, next_run_at; $14 updated_at.
 */
export function updateSchedule(schema: string): Statement {
  return {
    text: `UPDATE ${quote(schema)}.schedules SET
  name = $2, task = $3, payload = $4::jsonb, trigger = $5::jsonb, paused = $6, misfire_grace_ms = $7,
  coalesce_missed = $8, max_instances = $9, jitter_ms = $10, job_options = $11::jsonb, definition_hash = $12,
  next_run_at = $13, updated_at = $14
WHERE id = $1
RETURNING ${SCHEDULE_COLUMNS}`,
  };
}

/** selectSchedule reads one schedule; with `forUpdate` it also locks the row. $1 id (text). */
export function selectSchedule(schema: string, forUpdate = false): Statement {
  return {
    text: `SELECT ${SCHEDULE_COLUMNS} FROM ${quote(schema)}.schedules WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
  };
}

/** selectSchedules reads every schedule by id. No parameters. */
export function selectSchedules(schema: string): Statement {
  return { text: `SELECT ${SCHEDULE_COLUMNS} FROM ${quote(schema)}.schedules ORDER BY id` };
}

/** deleteSchedule deletes a schedule; its fires go with it. $1 id (text). */
export function deleteSchedule(schema: string): Statement {
  return { text: `DELETE FROM ${quote(schema)}.schedules WHERE id = $1` };
}

/** selectDueSchedules reads schedules due at now that are not paused, earliest first. $1 now, $2 limit. */
export function selectDueSchedules(schema: string): Statement {
  return {
    name: `jobyard:${schema}:schedules-due`,
    text: `SELECT ${SCHEDULE_COLUMNS} FROM ${quote(schema)}.schedules
WHERE NOT paused AND next_run_at IS NOT NULL AND next_run_at <= $1
ORDER BY next_run_at, id
LIMIT $2`,
  };
}

/**
 * advanceSchedule moves next_run_at from $2 to $3 if it still is $2 (the fire-time
 * compare-and-set; a concurrent one waits for the row lock, then finds the new value and
 * moves nothing). Returns max_instances when it moved. $1 id, $2 from, $3 to (or null).
 */
export function advanceSchedule(schema: string): Statement {
  return {
    name: `jobyard:${schema}:schedule-advance`,
    text: `UPDATE ${quote(schema)}.schedules SET next_run_at = $3
WHERE id = $1 AND next_run_at = $2
RETURNING max_instances`,
  };
}

/** setScheduleLastRun sets last_run_at to $2 unless it is already later. $1 id, $2 time. */
export function setScheduleLastRun(schema: string): Statement {
  return {
    name: `jobyard:${schema}:schedule-last-run`,
    text: `UPDATE ${quote(schema)}.schedules SET last_run_at = greatest(last_run_at, $2) WHERE id = $1`,
  };
}

const SCHEDULE_FIRE_COLUMNS = 'schedule_id, fire_at, manual, outcome, job_id, reason, recorded_at';

/**
 * insertScheduleFire records a fire time (or a manual run) unless it already has a row;
 * returns the row when recorded. $1 schedule id, $2 fire_at, $3 manual, $4 outcome, $5 job id
 * (uuid or null), $6 reason, $7 recorded_at.
 */
export function insertScheduleFire(schema: string): Statement {
  return {
    name: `jobyard:${schema}:schedule-fire`,
    text: `INSERT INTO ${quote(schema)}.schedule_fires (${SCHEDULE_FIRE_COLUMNS})
VALUES ($1, $2, $3, $4, $5::uuid, $6, $7)
ON CONFLICT (schedule_id, fire_at, manual) DO NOTHING
RETURNING ${SCHEDULE_FIRE_COLUMNS}`,
  };
}

/**
 * skipScheduleFire turns a fire recorded as enqueued into a skip whose job was not inserted
 * (a live job holds its dedup key); returns the row. $1 schedule id, $2 fire_at, $3 manual,
 * $4 the live job's id, $5 reason.
 */
export function skipScheduleFire(schema: string): Statement {
  return {
    name: `jobyard:${schema}:schedule-skip`,
    text: `UPDATE ${quote(schema)}.schedule_fires SET outcome = 'skipped', job_id = $4::uuid, reason = $5
WHERE schedule_id = $1 AND fire_at = $2 AND manual = $3
RETURNING ${SCHEDULE_FIRE_COLUMNS}`,
  };
}

/**
 * countLiveScheduleJobs counts a schedule's live jobs by the mark in their metadata (the
 * predicate repeats jobs_live_schedule_idx's). $1 schedule id.
 */
export function countLiveScheduleJobs(schema: string): Statement {
  return {
    name: `jobyard:${schema}:schedule-live`,
    text: `SELECT count(*)::int AS count FROM ${quote(schema)}.jobs
WHERE metadata->>'jobyardScheduleId' = $1 AND status IN ${LIVE} AND metadata ? 'jobyardScheduleId'`,
  };
}

/**
 * selectScheduleFires lists a schedule's fire records, latest first (at one instant the
 * trigger's before the manual run). $1 schedule id, $2 limit.
 */
export function selectScheduleFires(schema: string): Statement {
  return {
    text: `SELECT ${SCHEDULE_FIRE_COLUMNS} FROM ${quote(schema)}.schedule_fires
WHERE schedule_id = $1 ORDER BY fire_at DESC, manual LIMIT $2`,
  };
}

// ---------------------------------------------------------------------------------------
// API tokens

const API_TOKEN_COLUMNS = 'id, name, role, created_at, last_used_at, revoked_at';

/**
 * insertApiToken inserts a token unless a live token has its name (or its id or hash
 * exists); returns the row when inserted. $1 id, $2 name, $3 role, $4 secret hash, $5 created_at.
 */
export function insertApiToken(schema: string): Statement {
  return {
    text: `INSERT INTO ${quote(schema)}.api_tokens (id, name, role, secret_hash, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
RETURNING ${API_TOKEN_COLUMNS}`,
  };
}

/** selectLiveApiTokenByHash reads the live token of a secret hash. $1 secret hash. */
export function selectLiveApiTokenByHash(schema: string): Statement {
  return {
    name: `jobyard:${schema}:token-by-hash`,
    text: `SELECT ${API_TOKEN_COLUMNS} FROM ${quote(schema)}.api_tokens WHERE secret_hash = $1 AND revoked_at IS NULL`,
  };
}

/** selectLiveApiTokenByName reads the live token of a name. $1 name. */
export function selectLiveApiTokenByName(schema: string): Statement {
  return {
    text: `SELECT ${API_TOKEN_COLUMNS} FROM ${quote(schema)}.api_tokens WHERE name = $1 AND revoked_at IS NULL`,
  };
}

/** selectApiToken reads one token, revoked or not. $1 id. */
export function selectApiToken(schema: string): Statement {
  return { text: `SELECT ${API_TOKEN_COLUMNS} FROM ${quote(schema)}.api_tokens WHERE id = $1` };
}

/** selectApiTokens lists tokens oldest first; revoked ones only when $1 is true. $1 include revoked (boolean). */
export function selectApiTokens(schema: string): Statement {
  return {
    text: `SELECT ${API_TOKEN_COLUMNS} FROM ${quote(schema)}.api_tokens
WHERE $1::boolean OR revoked_at IS NULL
ORDER BY created_at, id`,
  };
}

/** revokeApiToken revokes a live token; returns the row when it was live. $1 id, $2 now. */
export function revokeApiToken(schema: string): Statement {
  return {
    text: `UPDATE ${quote(schema)}.api_tokens SET revoked_at = $2
WHERE id = $1 AND revoked_at IS NULL
RETURNING ${API_TOKEN_COLUMNS}`,
  };
}

/** markApiTokenUsed sets last_used_at to $2 unless it is already later. $1 id, $2 now. */
export function markApiTokenUsed(schema: string): Statement {
  return {
    name: `jobyard:${schema}:token-used`,
    text: `UPDATE ${quote(schema)}.api_tokens SET last_used_at = $2
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`,
  };
}

// ---------------------------------------------------------------------------------------
// Rate limits and audit log

/**
 * takeRateLimit runs the GCRA take of migration 6's rate_limit_take (see RateLimitTakeParams).
 * $1 key (text), $2 now (epoch ms), $3 interval (ms), $4 limit (int), $5 cost (int).
 */
export function takeRateLimit(schema: string): Statement {
  return {
    name: `jobyard:${schema}:rate-limit-take`,
    text: `SELECT allowed, reset_at FROM ${quote(schema)}.rate_limit_take($1::text, $2::bigint, $3::bigint, $4::int, $5::int)`,
  };
}

/**
 * pruneRateLimits deletes up to $2 (int) keys whole again at $1 (epoch ms); keys a take has
 * locked are skipped, never waited for.
 */
export function pruneRateLimits(schema: string): Statement {
  const s = quote(schema);
  return {
    text: `DELETE FROM ${s}.rate_limits WHERE key IN (
  SELECT key FROM ${s}.rate_limits WHERE reset_at <= $1::bigint LIMIT $2::int FOR UPDATE SKIP LOCKED
)`,
  };
}

const AUDIT_COLUMNS =
  'id, at, principal_id, principal_name, principal_role, action, target, outcome, status, request_id, client_address';

/**
 * appendAuditEntry records an entry and returns it. $1 at (timestamptz), $2 principal id,
 * $3 principal name, $4 principal role (text or null), $5 action, $6 target (text or null),
 * $7 outcome (text), $8 status (int), $9 request id, $10 client address (text).
 */
export function appendAuditEntry(schema: string): Statement {
  return {
    name: `jobyard:${schema}:audit-append`,
    text: `INSERT INTO ${quote(schema)}.audit_log
  (at, principal_id, principal_name, principal_role, action, target, outcome, status, request_id, client_address)
VALUES ($1::timestamptz, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int, $9::text, $10::text)
RETURNING ${AUDIT_COLUMNS}`,
  };
}

/** AuditListQueryFilter is the part of an audit list query that shapes its WHERE clause. */
export interface AuditListQueryFilter {
  principalId?: string;
  action?: string;
  target?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
  after?: string;
}

/**
 * listAuditEntries lists entries newest first (by id) with only the filters given. The
 * parameters follow the filter fields in declaration order, then the limit (int) last.
 */
export function listAuditEntries(
  schema: string,
  filter: AuditListQueryFilter,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const conditions: string[] = [];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(condition(`$${values.length}`));
  };
  if (filter.principalId !== undefined) add((p) => `principal_id = ${p}::text`, filter.principalId);
  if (filter.action !== undefined) add((p) => `action = ${p}::text`, filter.action);
  if (filter.target !== undefined) add((p) => `target = ${p}::text`, filter.target);
  if (filter.outcome !== undefined) add((p) => `outcome = ${p}::text`, filter.outcome);
  if (filter.from !== undefined) add((p) => `at >= ${p}::timestamptz`, filter.from);
  if (filter.to !== undefined) add((p) => `at < ${p}::timestamptz`, filter.to);
  if (filter.after !== undefined) add((p) => `id < ${p}::bigint`, filter.after);
  values.push(limit);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return {
    text: `SELECT ${AUDIT_COLUMNS} FROM ${quote(schema)}.audit_log ${where} ORDER BY id DESC LIMIT $${values.length}::int`,
    values,
  };
}

/** pruneAuditEntries deletes up to $2 (int) entries recorded before $1 (timestamptz). */
export function pruneAuditEntries(schema: string): Statement {
  const s = quote(schema);
  return {
    text: `DELETE FROM ${s}.audit_log WHERE id IN (SELECT id FROM ${s}.audit_log WHERE at < $1::timestamptz LIMIT $2::int)`,
  };
}
