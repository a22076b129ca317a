/**
 * SqliteMigration is one forward-only schema step of the SQLite store. Each version not yet
 * recorded in `jobyard_migrations` is applied, in version order, and recorded; a shipped
 * migration is never edited, only followed by a new one.
 */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/** SQLITE_MIGRATIONS lists every schema step of the SQLite store, in version order. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'create_jobs',
    sql: `
      -- Timestamps are integer epoch milliseconds; payload, result, errors, tags and metadata are JSON text.
      CREATE TABLE jobyard_jobs (
        id                TEXT    NOT NULL PRIMARY KEY,
        queue             TEXT    NOT NULL,
        task              TEXT    NOT NULL,
        payload           TEXT    NOT NULL,
        status            TEXT    NOT NULL CHECK (status IN ('scheduled', 'available', 'running', 'retryable', 'completed', 'failed', 'cancelled')),
        priority          INTEGER NOT NULL,
        run_at            INTEGER NOT NULL,
        attempt           INTEGER NOT NULL DEFAULT 0,
        max_attempts      INTEGER NOT NULL,
        created_at        INTEGER NOT NULL,
        started_at        INTEGER,
        finished_at       INTEGER,
        result            TEXT,
        errors            TEXT    NOT NULL DEFAULT '[]',
        progress          REAL,
        progress_message  TEXT,
        dedup_key         TEXT,
        concurrency_key   TEXT,
        concurrency_limit INTEGER NOT NULL,
        tags              TEXT    NOT NULL DEFAULT '[]',
        metadata          TEXT    NOT NULL DEFAULT '{}',
        timeout_ms        INTEGER,
        lease_owner       TEXT,
        lease_token       TEXT,
        lease_expires_at  INTEGER,
        cancel_requested  INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      -- Claims walk waiting jobs of one queue in claim order; finished rows are not in it.
      CREATE INDEX jobyard_jobs_waiting ON jobyard_jobs (queue, priority DESC, run_at, id)
        WHERE status IN ('scheduled', 'available', 'retryable');

      -- The rescuer finds running jobs whose lease expired.
      CREATE INDEX jobyard_jobs_lease_expiry ON jobyard_jobs (lease_expires_at)
        WHERE status = 'running';

      -- Claims count running jobs per concurrency key.
      CREATE INDEX jobyard_jobs_running_concurrency ON jobyard_jobs (concurrency_key)
        WHERE status = 'running' AND concurrency_key IS NOT NULL;

      -- Deduplication: at most one live job per dedup key, enforced by the database.
      CREATE UNIQUE INDEX jobyard_jobs_dedup_live ON jobyard_jobs (dedup_key)
        WHERE dedup_key IS NOT NULL AND status NOT IN ('completed', 'failed', 'cancelled');

      -- The pruner deletes final jobs by age.
      CREATE INDEX jobyard_jobs_prune ON jobyard_jobs (finished_at)
        WHERE status IN ('completed', 'failed', 'cancelled');
    `,
  },
  {
    version: 2,
    name: 'create_schedules',
    sql: `
      -- trigger, payload and job_options are JSON text; times are epoch milliseconds.
      CREATE TABLE jobyard_schedules (
        id               TEXT    NOT NULL PRIMARY KEY,
        name             TEXT,
        task             TEXT    NOT NULL,
        payload          TEXT    NOT NULL,
        trigger          TEXT    NOT NULL,
        paused           INTEGER NOT NULL,
        misfire_grace_ms INTEGER,
        coalesce_missed  INTEGER NOT NULL,
        max_instances    INTEGER NOT NULL,
        jitter_ms        INTEGER NOT NULL,
        job_options      TEXT    NOT NULL,
        definition_hash  TEXT,
        next_run_at      INTEGER,
        last_run_at      INTEGER,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      ) STRICT;

      -- The fire loop reads due schedules that are not paused.
      CREATE INDEX jobyard_schedules_due ON jobyard_schedules (next_run_at)
        WHERE paused = 0 AND next_run_at IS NOT NULL;

      -- One row per fire time: the primary key is what makes a fire time enqueue at most once.
      CREATE TABLE jobyard_schedule_fires (
        schedule_id TEXT    NOT NULL REFERENCES jobyard_schedules (id) ON DELETE CASCADE,
        fire_at     INTEGER NOT NULL,
        outcome     TEXT    NOT NULL CHECK (outcome IN ('enqueued', 'missed', 'skipped')),
        job_id      TEXT,
        reason      TEXT,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (schedule_id, fire_at)
      ) STRICT;

      -- Max instances counts a schedule's live jobs (scheduleFire marks them in metadata).
      CREATE INDEX jobyard_jobs_live_schedule ON jobyard_jobs (json_extract(metadata, '$.jobyardScheduleId'))
        WHERE status IN ('scheduled', 'available', 'running', 'retryable');
    `,
  },
  {
    version: 3,
    name: 'manual_schedule_fires',
    sql: `
      -- A manual run (runScheduleNow) is keyed apart from the trigger's fire times, so a run
      -- now at the instant of a due fire time no longer collides with it. SQLite cannot change
      -- a primary key in place: the table is rebuilt. Rows recorded before this migration
      -- cannot be told apart and count as fire times of the trigger.
      CREATE TABLE jobyard_schedule_fires_v3 (
        schedule_id TEXT    NOT NULL REFERENCES jobyard_schedules (id) ON DELETE CASCADE,
        fire_at     INTEGER NOT NULL,
        manual      INTEGER NOT NULL CHECK (manual IN (0, 1)),
        outcome     TEXT    NOT NULL CHECK (outcome IN ('enqueued', 'missed', 'skipped')),
        job_id      TEXT,
        reason      TEXT,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (schedule_id, fire_at, manual)
      ) STRICT;
      INSERT INTO jobyard_schedule_fires_v3 (schedule_id, fire_at, manual, outcome, job_id, reason, recorded_at)
        SELECT schedule_id, fire_at, 0, outcome, job_id, reason, recorded_at FROM jobyard_schedule_fires;
      DROP TABLE jobyard_schedule_fires;
      ALTER TABLE jobyard_schedule_fires_v3 RENAME TO jobyard_schedule_fires;
    `,
  },
  {
    version: 4,
    name: 'live_schedule_index_partial',
    sql: `
      -- Only jobs enqueued by a schedule belong in the live-schedule index: holding every live
      -- job cost each claim and settle an index update (about a quarter of a claim's time).
      DROP INDEX jobyard_jobs_live_schedule;
      CREATE INDEX jobyard_jobs_live_schedule ON jobyard_jobs (json_extract(metadata, '$.jobyardScheduleId'))
        WHERE status IN ('scheduled', 'available', 'running', 'retryable')
          AND json_extract(metadata, '$.jobyardScheduleId') IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'dedup_key_index',
    sql: `
      -- Finding the newest job of a dedup key in any status (an Idempotency-Key replay after
      -- the job finished) read the whole table newest first: the unique index only holds live jobs.
      CREATE INDEX jobyard_jobs_dedup_key ON jobyard_jobs (dedup_key, id) WHERE dedup_key IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'api_tokens',
    sql: `
      -- API keys: the secret is never stored, only its SHA-256 (hex), which requests are looked up by.
      CREATE TABLE jobyard_api_tokens (
        id           TEXT    NOT NULL PRIMARY KEY,
        name         TEXT    NOT NULL,
        role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        secret_hash  TEXT    NOT NULL UNIQUE,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at   INTEGER
      ) STRICT;

      -- A name names one live token; a revoked token's name may be given again.
      CREATE UNIQUE INDEX jobyard_api_tokens_live_name ON jobyard_api_tokens (name) WHERE revoked_at IS NULL;
    `,
  },
  {
    version: 7,
    name: 'rate_limits_and_audit_log',
    sql: `
      -- One row per rate limit key: reset_at (epoch ms) is when the key is whole again (GCRA's
      -- theoretical arrival time). A row with reset_at <= now equals no row, so the pruner
      -- deletes those through the index.
      CREATE TABLE jobyard_rate_limits (
        key      TEXT    NOT NULL PRIMARY KEY,
        reset_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX jobyard_rate_limits_reset_at ON jobyard_rate_limits (reset_at);

      -- The audit log is append-only: ids follow recording order (AUTOINCREMENT never reuses
      -- the id of a pruned entry), and a trigger refuses every UPDATE.
      CREATE TABLE jobyard_audit_log (
        id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        at             INTEGER NOT NULL,
        principal_id   TEXT    NOT NULL,
        principal_name TEXT    NOT NULL,
        principal_role TEXT,
        action         TEXT    NOT NULL,
        target         TEXT,
        outcome        TEXT    NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
        status         INTEGER NOT NULL,
        request_id     TEXT    NOT NULL,
        client_address TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX jobyard_audit_log_at ON jobyard_audit_log (at);
      CREATE INDEX jobyard_audit_log_principal ON jobyard_audit_log (principal_id, id);
      CREATE INDEX jobyard_audit_log_target ON jobyard_audit_log (target, id) WHERE target IS NOT NULL;
      CREATE TRIGGER jobyard_audit_log_append_only BEFORE UPDATE ON jobyard_audit_log
      BEGIN
        SELECT RAISE(ABORT, 'jobyard audit entries are never updated');
      END;
    `,
  },
  {
    version: 8,
    name: 'paused_queues',
    sql: `
      -- One row per paused queue. Claims read it inside their write transaction, so a pause
      -- holds for every process from its commit; it stays tiny, so reading it costs a claim
      -- next to nothing.
      CREATE TABLE jobyard_paused_queues (
        queue     TEXT    NOT NULL PRIMARY KEY,
        paused_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 9,
    name: 'job_steps',
    sql: `
      -- Durable steps of a job: a JSON array of step records, NULL (no steps) for most jobs.
      ALTER TABLE jobyard_jobs ADD COLUMN steps TEXT;
    `,
  },
  {
    version: 10,
    name: 'job_dependencies',
    sql: `
      -- A child job waits, scheduled far in the future, until waiting_parents reaches 0.
      ALTER TABLE jobyard_jobs ADD COLUMN depends_on TEXT; -- JSON array of parent ids; NULL for none
      ALTER TABLE jobyard_jobs ADD COLUMN waiting_parents INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE jobyard_jobs ADD COLUMN on_parent_failure TEXT CHECK (on_parent_failure IN ('cancel', 'run'));
      -- Set on parents only, so that the trigger below costs nothing for other jobs.
      ALTER TABLE jobyard_jobs ADD COLUMN has_dependents INTEGER NOT NULL DEFAULT 0;

      CREATE TABLE jobyard_job_dependencies (
        parent_id TEXT NOT NULL REFERENCES jobyard_jobs (id) ON DELETE CASCADE,
        child_id  TEXT NOT NULL REFERENCES jobyard_jobs (id) ON DELETE CASCADE,
        PRIMARY KEY (parent_id, child_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX jobyard_job_dependencies_child ON jobyard_job_dependencies (child_id);

      -- A parent reaching a final status settles its waiting children in the same transaction,
      -- whichever write got it there (an outcome, a cancel, the rescuer). Cancelled children
      -- fire it in turn (recursive_triggers is on). jobyard_jobs_released is a function each
      -- SQLite store registers on its connection: it wakes that process's workers.
      CREATE TRIGGER jobyard_jobs_settle_children AFTER UPDATE OF status ON jobyard_jobs
      WHEN NEW.has_dependents = 1 AND OLD.status <> NEW.status AND NEW.status IN ('completed', 'failed', 'cancelled')
      BEGIN
        UPDATE jobyard_jobs SET
          waiting_parents = waiting_parents - 1,
          run_at = CASE WHEN waiting_parents = 1 THEN NEW.finished_at ELSE run_at END
        WHERE id IN (SELECT child_id FROM jobyard_job_dependencies WHERE parent_id = NEW.id)
          AND status = 'scheduled' AND waiting_parents > 0
          AND (NEW.status = 'completed' OR on_parent_failure = 'run');
        UPDATE jobyard_jobs SET
          status = 'cancelled', finished_at = NEW.finished_at, waiting_parents = 0,
          errors = json_insert(errors, '$[#]', json_object(
            'attempt', attempt,
            'at', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.finished_at / 1000.0, 'unixepoch'),
            'message', 'parent job ' || NEW.id || ' ' || NEW.status,
            'name', 'JOBYARD_PARENT_FAILED'))
        WHERE id IN (SELECT child_id FROM jobyard_job_dependencies WHERE parent_id = NEW.id)
          AND status = 'scheduled' AND waiting_parents > 0
          AND NEW.status <> 'completed' AND on_parent_failure = 'cancel';
        SELECT jobyard_jobs_released(queue) FROM jobyard_jobs
        WHERE id IN (SELECT child_id FROM jobyard_job_dependencies WHERE parent_id = NEW.id)
          AND status = 'scheduled' AND waiting_parents = 0 AND run_at = NEW.finished_at;
      END;
    `,
  },
];

/** SQLITE_SCHEMA_VERSION is the schema version this code knows: the highest migration's. */
export const SQLITE_SCHEMA_VERSION: number = Math.max(0, ...SQLITE_MIGRATIONS.map((migration) => migration.version));
