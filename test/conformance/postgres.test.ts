import { freshPgStore, pgMigrationsTable } from '../helpers/postgres.js';
import { exerciseStore } from './index.js';

exerciseStore('postgres store', async () => {
  const { store, schema, cleanup } = await freshPgStore();
  return { store, cleanup, migrationsTable: pgMigrationsTable(schema) };
});
