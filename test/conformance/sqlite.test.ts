import { sqliteMigrationsTable, tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseStore } from './index.js';

exerciseStore('sqlite store', async () => {
  const { store, filename, cleanup } = await tempSqliteStore();
  return { store, cleanup, migrationsTable: sqliteMigrationsTable(filename) };
});
