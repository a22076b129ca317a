import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/index.js';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/stores/sqlite/store.js';

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
