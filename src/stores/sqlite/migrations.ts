/**
 * SqliteMigration is one forward-only schema step of the SQLite store. Versions are applied in
 * order and recorded in `jobyard_migrations`; a shipped migration is never edited, only
 * followed by a new one.
 */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

/** SQLITE_MIGRATIONS lists every schema step of the SQLite store, oldest first. */
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
];

/** SQLITE_SCHEMA_VERSION is the schema version this code knows: the last migration's. */
export const SQLITE_SCHEMA_VERSION: number = SQLITE_MIGRATIONS.at(-1)?.version ?? 0;
