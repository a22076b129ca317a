import type pg from 'pg';
import { type MigrateResult, pendingMigrations, type SchemaVersion, schemaVersionOf } from '../../store/index.js';
import {
  createMigrationsTable,
  createSchema,
  FINAL,
  LIVE,
  migrationLock,
  migrationUnlock,
  notificationChannel,
  recordMigration,
  type Statement,
  selectRecordedMigrations,
  WAITING,
} from './sql.js';

/**
 * Migration is one forward-only schema change. Its SQL is frozen once released: a later
 * change is a new migration, never an edit (databases already ran the old text).
 */
export interface Migration {
  version: number;
  name: string;
  /** The DDL for a schema; may hold several statements (run in one transaction). */
  sql(schema: string): string;
}

/**
 * MIGRATIONS in version order (a database may have recorded them out of order: see
 * pendingMigrations).
 *
 * 1. The jobs table. Columns are ordered fixed-width first to avoid alignment padding.
 *    Fillfactor 85 leaves room on each page so updates that touch no indexed column
 *    (progress, cancel flag) stay HOT. Every index is partial so that the millions of
 *    finished rows a busy queue accumulates cost nothing to claims: the waiting index in
 *    claim order keeps jobClaim O(log n), the running indexes serve the rescuer and the
 *    concurrency counts, the dedup index only holds live jobs that have a key, and the
 *    finished index serves the pruner. Autovacuum runs early because a queue table churns.
 *
 *    claim_keyed starts waiting jobs (already row-locked by the claim statement) as far as
 *    their concurrency keys allow. A plain statement cannot do this safely: its snapshot
 *    is taken before it could lock the keys, so it could miss claims committed meanwhile. A
 *    VOLATILE function takes a fresh snapshot per statement, so once it holds a key's
 *    transaction-level advisory lock the running count it reads is current and stays so
 *    until the claim commits. Like SKIP LOCKED for rows, a key another claimer holds is
 *    skipped rather than waited for: claims never block each other (nor deadlock), and the
 *    skipped jobs stay waiting for the next claim.
 *
 * 2. Schedules and their fire history. The fires' primary key (schedule, fire time) is what
 *    makes each fire time enqueue at most once; next_run_at is the compare-and-set token
 *    that lets exactly one process fire it. Max instances counts a schedule's live jobs,
 *    found by the schedule id scheduleFire writes into their metadata.
 *
 * 3. Manual runs (runScheduleNow) are keyed apart from the trigger's fire times: the fires'
 *    primary key becomes (schedule, fire time, manual), so a run now at the instant of a due
 *    fire time no longer collides with it. Rows recorded before cannot be told apart and
 *    count as fire times of the trigger.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs',
    sql: (schema) => {
      const s = `"${schema}"`;
      return `
CREATE TABLE ${s}.jobs (
  id uuid PRIMARY KEY,
  run_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  lease_expires_at timestamptz,
  lease_token uuid,
  priority integer NOT NULL DEFAULT 0,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  concurrency_limit integer NOT NULL DEFAULT 1,
  timeout_ms integer,
  progress real,
  cancel_requested boolean NOT NULL DEFAULT false,
  status text NOT NULL CONSTRAINT jobs_status_check CHECK (status IN
    ('scheduled', 'available', 'running', 'retryable', 'completed', 'failed', 'cancelled')),
  queue text NOT NULL,
  task text NOT NULL,
  payload jsonb NOT NULL DEFAULT 'null'::jsonb,
  result jsonb,
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  progress_message text,
  dedup_key text,
  concurrency_key text,
  tags text[] NOT NULL DEFAULT '{}',
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  lease_owner text
) WITH (
  fillfactor = 85,
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.02
);

CREATE INDEX jobs_waiting_idx ON ${s}.jobs (queue, priority DESC, run_at, id)
  WHERE status IN ${WAITING};
CREATE INDEX jobs_lease_expiry_idx ON ${s}.jobs (lease_expires_at)
  WHERE status = 'running';
CREATE INDEX jobs_running_concurrency_key_idx ON ${s}.jobs (concurrency_key)
  WHERE status = 'running' AND concurrency_key IS NOT NULL;
CREATE UNIQUE INDEX jobs_live_dedup_key_idx ON ${s}.jobs (dedup_key)
  WHERE dedup_key IS NOT NULL AND status IN ${LIVE};
CREATE INDEX jobs_finished_idx ON ${s}.jobs (finished_at)
  WHERE status IN ${FINAL};

CREATE FUNCTION ${s}.claim_keyed(
  p_ids uuid[], p_worker text, p_now timestamptz, p_lease_ms double precision
) RETURNS SETOF ${s}.jobs LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_keys text[];
BEGIN
  SELECT array_agg(k.concurrency_key) INTO v_keys
  FROM (SELECT DISTINCT concurrency_key FROM ${s}.jobs WHERE id = ANY(p_ids) AND concurrency_key IS NOT NULL) k
  WHERE pg_try_advisory_xact_lock(hashtextextended('${schema}:' || k.concurrency_key, 0));
  RETURN QUERY
  WITH wanted AS (
    SELECT id, concurrency_key, concurrency_limit,
      row_number() OVER (PARTITION BY concurrency_key ORDER BY priority DESC, run_at, id) AS rank
    FROM ${s}.jobs
    WHERE id = ANY(p_ids) AND concurrency_key = ANY(v_keys) AND status IN ${WAITING}
  ),
  running AS (
    SELECT concurrency_key, count(*) AS count FROM ${s}.jobs
    WHERE status = 'running' AND concurrency_key IN (SELECT concurrency_key FROM wanted)
    GROUP BY concurrency_key
  ),
  granted AS (
    SELECT w.id FROM wanted w LEFT JOIN running r USING (concurrency_key)
    WHERE w.rank + coalesce(r.count, 0) <= w.concurrency_limit
  )
  UPDATE ${s}.jobs j SET
    status = 'running', attempt = j.attempt + 1, started_at = p_now, lease_owner = p_worker,
    lease_token = gen_random_uuid(), lease_expires_at = p_now + p_lease_ms * interval '1 millisecond',
    cancel_requested = false
  FROM granted g
  WHERE j.id = g.id
  RETURNING j.*;
END
$fn$;
`;
    },
  },
  {
    version: 2,
    name: 'schedules',
    sql: (schema) => {
      const s = `"${schema}"`;
      return `
CREATE TABLE ${s}.schedules (
  id text PRIMARY KEY,
  next_run_at timestamptz,
  last_run_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  misfire_grace_ms integer,
  max_instances integer NOT NULL,
  jitter_ms integer NOT NULL,
  paused boolean NOT NULL,
  coalesce_missed boolean NOT NULL,
  name text,
  task text NOT NULL,
  definition_hash text,
  payload jsonb NOT NULL DEFAULT 'null'::jsonb,
  trigger jsonb NOT NULL,
  job_options jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX schedules_due_idx ON ${s}.schedules (next_run_at)
  WHERE NOT paused AND next_run_at IS NOT NULL;

CREATE TABLE ${s}.schedule_fires (
  schedule_id text NOT NULL REFERENCES ${s}.schedules (id) ON DELETE CASCADE,
  fire_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  job_id uuid,
  outcome text NOT NULL CONSTRAINT schedule_fires_outcome_check CHECK (outcome IN ('enqueued', 'missed', 'skipped')),
  reason text,
  PRIMARY KEY (schedule_id, fire_at)
);
CREATE INDEX jobs_live_schedule_idx ON ${s}.jobs ((metadata->>'jobyardScheduleId'))
  WHERE status IN ${LIVE} AND metadata ? 'jobyardScheduleId';
`;
    },
  },
  {
    version: 3,
    name: 'manual_schedule_fires',
    sql: (schema) => {
      const s = `"${schema}"`;
      return `
ALTER TABLE ${s}.schedule_fires ADD COLUMN manual boolean NOT NULL DEFAULT false;
ALTER TABLE ${s}.schedule_fires DROP CONSTRAINT schedule_fires_pkey, ADD PRIMARY KEY (schedule_id, fire_at, manual);
`;
    },
  },
  {
    // Finding the newest job of a dedup key in any status (an Idempotency-Key replay after
    // the job finished) read the whole table newest first: the unique index only holds live jobs.
    version: 4,
    name: 'dedup_key_index',
    sql: (schema) => `CREATE INDEX jobs_dedup_key_idx ON "${schema}".jobs (dedup_key, id) WHERE dedup_key IS NOT NULL;`,
  },
  {
    // API keys: the secret is never stored, only its SHA-256 (hex), which requests are looked
    // up by. A name names one live token; a revoked token's name may be given again.
    version: 5,
    name: 'api_tokens',
    sql: (schema) => {
      const s = `"${schema}"`;
      return `
CREATE TABLE ${s}.api_tokens (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  name text NOT NULL,
  role text NOT NULL CONSTRAINT api_tokens_role_check CHECK (role IN ('viewer', 'operator', 'admin')),
  secret_hash text NOT NULL CONSTRAINT api_tokens_secret_hash_key UNIQUE
);
CREATE UNIQUE INDEX api_tokens_live_name_idx ON ${s}.api_tokens (name) WHERE revoked_at IS NULL;
`;
    },
  },
  {
    // Rate limits: one row per key holding reset_at, when the key is whole again (GCRA's
    // theoretical arrival time, see RateLimitTakeParams), as epoch milliseconds so that the
    // arithmetic is exact integer maths as in the SQLite store. rate_limit_take decides and
    // writes in one round trip under the key's row lock: concurrent takes of one key queue on
    // the lock and each sees the one before. A row with reset_at <= now equals no row; the
    // pruner deletes those through the index.
    //
    // The audit log is append-only: ids follow recording order and a trigger refuses UPDATE.
    version: 6,
    name: 'rate_limits_and_audit_log',
    sql: (schema) => {
      const s = `"${schema}"`;
      return `
CREATE TABLE ${s}.rate_limits (
  key text PRIMARY KEY,
  reset_at bigint NOT NULL
);
CREATE INDEX rate_limits_reset_at_idx ON ${s}.rate_limits (reset_at);

CREATE FUNCTION ${s}.rate_limit_take(
  p_key text, p_now bigint, p_interval bigint, p_limit integer, p_cost integer
) RETURNS TABLE (allowed boolean, reset_at bigint) LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_from bigint;
  v_next bigint;
BEGIN
  -- Each statement of a VOLATILE function takes a fresh snapshot: once the row is locked,
  -- its value is the latest committed one. The loop ends at once unless a pruner deleted
  -- the row between the insert and the lock.
  LOOP
    SELECT greatest(r.reset_at, p_now) INTO v_from FROM ${s}.rate_limits r WHERE r.key = p_key FOR UPDATE;
    EXIT WHEN FOUND;
    INSERT INTO ${s}.rate_limits (key, reset_at) VALUES (p_key, p_now) ON CONFLICT (key) DO NOTHING;
  END LOOP;
  v_next := v_from + p_cost * p_interval;
  IF v_next - p_now <= p_interval * p_limit THEN
    IF p_cost > 0 THEN
      UPDATE ${s}.rate_limits r SET reset_at = v_next WHERE r.key = p_key;
    END IF;
    RETURN QUERY SELECT true, v_next;
  ELSE
    RETURN QUERY SELECT false, v_from;
  END IF;
END
$fn$;

CREATE TABLE ${s}.audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  status integer NOT NULL,
  principal_id text NOT NULL,
  principal_name text NOT NULL,
  principal_role text,
  action text NOT NULL,
  target text,
  outcome text NOT NULL CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('success', 'denied', 'error')),
  request_id text NOT NULL,
  client_address text NOT NULL
);
CREATE INDEX audit_log_at_idx ON ${s}.audit_log (at);
CREATE INDEX audit_log_principal_idx ON ${s}.audit_log (principal_id, id);
CREATE INDEX audit_log_target_idx ON ${s}.audit_log (target, id) WHERE target IS NOT NULL;

CREATE FUNCTION ${s}.audit_log_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'jobyard audit entries are never updated';
END
$fn$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON ${s}.audit_log
  FOR EACH ROW EXECUTE FUNCTION ${s}.audit_log_refuse_update();
`;
    },
  },
  {
    // One row per paused queue. The claim statement filters its queue list through it (an
    // anti-join on a table of a few rows, next to nothing per claim); kept out of the jobs
    // table so that pausing writes one row, not one per waiting job.
    version: 7,
    name: 'paused_queues',
    sql: (schema) => `CREATE TABLE "${schema}".paused_queues (queue text PRIMARY KEY, paused_at timestamptz NOT NULL);`,
  },
  {
    version: 8,
    name: 'job_steps',
    // Durable steps of a job, NULL (no steps) for most jobs: adding the column rewrites nothing.
    sql: (schema) => `ALTER TABLE "${schema}".jobs ADD COLUMN steps jsonb;`,
  },
  {
    version: 9,
    name: 'job_dependencies',
    sql: (schema) => {
      const s = `"${schema}"`;
      return `
-- A child job waits, scheduled far in the future, until waiting_parents reaches 0. The new
-- columns have constant defaults: adding them rewrites nothing.
ALTER TABLE ${s}.jobs
  ADD COLUMN depends_on uuid[],
  ADD COLUMN waiting_parents integer NOT NULL DEFAULT 0,
  ADD COLUMN on_parent_failure text CONSTRAINT jobs_on_parent_failure_check CHECK (on_parent_failure IN ('cancel', 'run')),
  -- Set on parents only, so that the trigger below is not even called for other jobs.
  ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;

CREATE TABLE ${s}.job_dependencies (
  parent_id uuid NOT NULL REFERENCES ${s}.jobs (id) ON DELETE CASCADE,
  child_id  uuid NOT NULL REFERENCES ${s}.jobs (id) ON DELETE CASCADE,
  PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX job_dependencies_child_idx ON ${s}.job_dependencies (child_id);

-- A parent reaching a final status settles its waiting children in the same transaction,
-- whichever write got it there (an outcome, a cancel, the rescuer); cancelled children fire
-- it in turn. Released children are announced at commit like any due job.
CREATE FUNCTION ${s}.settle_children() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE ${s}.jobs c SET
    waiting_parents = c.waiting_parents - 1,
    run_at = CASE WHEN c.waiting_parents = 1 THEN NEW.finished_at ELSE c.run_at END
  FROM ${s}.job_dependencies d
  WHERE d.parent_id = NEW.id AND c.id = d.child_id AND c.status = 'scheduled' AND c.waiting_parents > 0
    AND (NEW.status = 'completed' OR c.on_parent_failure = 'run');
  UPDATE ${s}.jobs c SET
    status = 'cancelled', finished_at = NEW.finished_at, waiting_parents = 0,
    errors = c.errors || jsonb_build_array(jsonb_build_object(
      'attempt', c.attempt,
      'at', to_char(NEW.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'message', format('parent job %s %s', NEW.id, NEW.status),
      'name', 'JOBYARD_PARENT_FAILED'))
  FROM ${s}.job_dependencies d
  WHERE d.parent_id = NEW.id AND c.id = d.child_id AND c.status = 'scheduled' AND c.waiting_parents > 0
    AND NEW.status <> 'completed' AND c.on_parent_failure = 'cancel';
  PERFORM pg_notify('${notificationChannel(schema)}', json_build_object('type', 'jobs_available', 'queue', released.queue)::text)
  FROM (
    SELECT DISTINCT c.queue FROM ${s}.jobs c JOIN ${s}.job_dependencies d ON c.id = d.child_id
    WHERE d.parent_id = NEW.id AND c.status = 'scheduled' AND c.waiting_parents = 0 AND c.run_at = NEW.finished_at
  ) released;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER jobs_settle_children AFTER UPDATE OF status ON ${s}.jobs FOR EACH ROW
  WHEN (NEW.has_dependents AND OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ${FINAL})
  EXECUTE FUNCTION ${s}.settle_children();`;
    },
  },
];

/**
 * applyMigrations applies every migration of MIGRATIONS the schema has not recorded, in
 * version order (see Store.migrate). Each runs in its own transaction, all of them under a
 * session advisory lock on one dedicated connection, so processes starting together apply
 * each migration exactly once and all return. Throws SchemaTooNewError when the schema
 * recorded a migration this code does not know.
 */
export async function applyMigrations(pool: pg.Pool, schema: string): Promise<MigrateResult> {
  // Without the lock first: a current schema (every start but the first) costs one read.
  const recorded = await readRecordedVersions(pool, schema);
  if (recorded !== null && pendingMigrations(MIGRATIONS, recorded).length === 0) {
    return { applied: [], version: Math.max(0, ...recorded) };
  }

  const client = await pool.connect();
  // A checked-out client has no error listener of the pool's; without one a dropped
  // connection would crash the process instead of failing the query.
  const ignoreConnectionError = () => {};
  client.on('error', ignoreConnectionError);
  const lockName = `jobyard:migrate:${schema}`;
  // Reused only once it is known to be clean (lock released); otherwise it is destroyed,
  // which also drops the session lock.
  let reusable = false;
  try {
    await query(client, migrationLock, [lockName]);
    try {
      return await migrateLocked(client, schema);
    } finally {
      await query(client, migrationUnlock, [lockName]).then(
        () => {
          reusable = true;
        },
        () => {},
      );
    }
  } finally {
    client.off('error', ignoreConnectionError);
    client.release(!reusable);
  }
}

/** migrateLocked applies what is pending, read again under the migration lock the caller holds. */
async function migrateLocked(client: pg.PoolClient, schema: string): Promise<MigrateResult> {
  await query(client, createSchema(schema));
  await query(client, createMigrationsTable(schema));
  const recorded = await selectRecordedVersions(client, schema);
  const pending = pendingMigrations(MIGRATIONS, recorded);
  for (const migration of pending) await applyOne(client, schema, migration);
  const applied = pending.map((migration) => migration.version);
  return { applied, version: Math.max(0, ...recorded, ...applied) };
}

async function applyOne(client: pg.PoolClient, schema: string, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql(schema));
    await query(client, recordMigration(schema), [migration.version, migration.name]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** schemaVersion compares the recorded migrations with MIGRATIONS without locking (see Store.schemaVersion). */
export async function schemaVersion(pool: pg.Pool, schema: string): Promise<SchemaVersion> {
  return schemaVersionOf(MIGRATIONS, (await readRecordedVersions(pool, schema)) ?? []);
}

/** readRecordedVersions reads the recorded versions without locking; null when never migrated. */
async function readRecordedVersions(pool: pg.Pool, schema: string): Promise<number[] | null> {
  try {
    return await selectRecordedVersions(pool, schema);
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P01') return null; // undefined_table
    throw error;
  }
}

async function selectRecordedVersions(db: pg.Pool | pg.PoolClient, schema: string): Promise<number[]> {
  const result = await query<{ version: number }>(db, selectRecordedMigrations(schema));
  return result.rows.map((row) => row.version);
}

function query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  statement: Statement,
  values: unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  return db.query<Row>({ text: statement.text, values });
}
