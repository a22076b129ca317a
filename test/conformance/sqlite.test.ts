import type { Store } from '../../src/store/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/store.js';
import { sqliteMigrationsTable, tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseStore } from './index.js';

exerciseStore('sqlite store', async () => {
  const { store, filename, cleanup } = await tempSqliteStore();
  const others: Store[] = [];
  return {
    store,
    migrationsTable: sqliteMigrationsTable(filename),
    openStore: async () => {
      const other = await createSqliteStore({ filename });
      others.push(other);
      return other;
    },
    cleanup: async () => {
      await Promise.all(others.map((other) => other.close()));
      await cleanup();
    },
  };
});
