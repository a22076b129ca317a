import type pg from 'pg';
import { SchemaTooNewError } from '../../errors/index.js';
import type { MigrateResult } from '../../store/index.js';
import {
  createMigrationsTable,
  createSchema,
  FINAL,
  LIVE,
  migrationLock,
  migrationUnlock,
  recordMigration,
  type Statement,
  selectSchemaVersion,
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
 * MIGRATIONS in version order.
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
    // One row per paused queue. The claim statement filters its queue list through it (an
    // anti-join on a table of a few rows, next to nothing per claim); kept out of the jobs
    // table so that pausing writes one row, not one per waiting job.
    version: 7,
    name: 'paused_queues',
    sql: (schema) => `CREATE TABLE "${schema}".paused_queues (queue text PRIMARY KEY, paused_at timestamptz NOT NULL);`,
  },
];

/** LATEST_SCHEMA_VERSION is the version this code creates and expects. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);

/**
 * applyMigrations brings a schema up to LATEST_SCHEMA_VERSION. Each pending migration runs
 * in its own transaction, all of them under a session advisory lock on one dedicated
 * connection, so processes starting together apply each migration exactly once and all
 * return. Throws SchemaTooNewError when the database is ahead of this code.
 */
export async function applyMigrations(pool: pg.Pool, schema: string): Promise<MigrateResult> {
  const current = await readSchemaVersion(pool, schema);
  if (current === LATEST_SCHEMA_VERSION) return { applied: [], version: current };
  if (current !== null && current > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(current, LATEST_SCHEMA_VERSION);

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

/** migrateLocked applies what is pending; the caller holds the migration lock. */
async function migrateLocked(client: pg.PoolClient, schema: string): Promise<MigrateResult> {
  await query(client, createSchema(schema));
  await query(client, createMigrationsTable(schema));
  const version = await selectVersion(client, schema);
  if (version > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(version, LATEST_SCHEMA_VERSION);
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= version) continue;
    await applyOne(client, schema, migration);
    applied.push(migration.version);
  }
  return { applied, version: Math.max(version, ...applied) };
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

/** readSchemaVersion reads the applied version without locking; null when never migrated. */
async function readSchemaVersion(pool: pg.Pool, schema: string): Promise<number | null> {
  try {
    return await selectVersion(pool, schema);
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P01') return null; // undefined_table
    throw error;
  }
}

async function selectVersion(db: pg.Pool | pg.PoolClient, schema: string): Promise<number> {
  const result = await query<{ version: number }>(db, selectSchemaVersion(schema));
  return result.rows[0]?.version ?? 0;
}

function query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  statement: Statement,
  values: unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  return db.query<Row>({ text: statement.text, values });
}
