import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/store.js';

/** SQLite keeps these files beside the database in WAL (or rollback journal) mode. */
const SIDE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** tempSqliteStore opens a migrated store on a new file under the OS temp folder; cleanup closes it and removes its files. */
export async function tempSqliteStore(): Promise<{ store: Store; filename: string; cleanup: () => Promise<void> }> {
  const filename = join(tmpdir(), `jobyard-test-${randomUUID()}.db`);
  const store = await createSqliteStore({ filename });
  const cleanup = async () => {
    await store.close();
    await Promise.all(SIDE_FILE_SUFFIXES.map((suffix) => rm(`${filename}${suffix}`, { force: true })));
  };
  return { store, filename, cleanup };
}
