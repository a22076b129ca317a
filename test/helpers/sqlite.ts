import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../../src/store/index.js';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/stores/sqlite/store.js';
import type { MigrationsTable } from './migrations-table.js';

/** SQLite keeps these files beside the database in WAL (or rollback journal) mode. */
const SIDE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/**
 * tempSqliteStore opens a migrated store on a new file under the OS temp folder (with
 * `options` but the filename); cleanup closes it and removes its files.
 */
export async function tempSqliteStore(
  options: Omit<SqliteStoreOptions, 'filename'> = {},
): Promise<{ store: Store; filename: string; cleanup: () => Promise<void> }> {
  const filename = join(tmpdir(), `jobyard-test-${randomUUID()}.db`);
  const store = await createSqliteStore({ ...options, filename });
  const cleanup = async () => {
    await store.close();
    await Promise.all(SIDE_FILE_SUFFIXES.map((suffix) => rm(`${filename}${suffix}`, { force: true })));
  };
  return { store, filename, cleanup };
}

/** What the migrations that sqliteMigrationsTable can unapply created, by name (their indexes and triggers go with their tables). */
const SQLITE_MIGRATION_OBJECTS: Record<string, string> = {
  api_tokens: 'DROP TABLE jobyard_api_tokens',
  rate_limits_and_audit_log: 'DROP TABLE jobyard_rate_limits; DROP TABLE jobyard_audit_log',
};

/** sqliteMigrationsTable stages migration histories in the SQLite database at `filename`, on a connection of its own per call. */
export function sqliteMigrationsTable(filename: string): MigrationsTable {
  const withDatabase = async <T>(work: (db: Database.Database) => T): Promise<T> => {
    const db = new Database(filename, { timeout: 5000 });
    try {
      return db.transaction(() => work(db)).immediate();
    } finally {
      db.close();
    }
  };
  return {
    recorded: () =>
      withDatabase((db) => db.prepare('SELECT version FROM jobyard_migrations ORDER BY version').pluck().all() as number[]),
    unapply: (names) =>
      withDatabase((db) => {
        const versions: number[] = [];
        for (const name of names) {
          const drop = SQLITE_MIGRATION_OBJECTS[name];
          if (drop === undefined) throw new Error(`sqliteMigrationsTable cannot unapply ${name}`);
          db.exec(drop);
          versions.push(
            db.prepare('DELETE FROM jobyard_migrations WHERE name = ? RETURNING version').pluck().get(name) as number,
          );
        }
        return versions.sort((a, b) => a - b);
      }),
    record: (version, name) =>
      withDatabase((db) => {
        db.prepare('INSERT INTO jobyard_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, name, Date.now());
      }),
  };
}
