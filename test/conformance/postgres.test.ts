import type { Store } from '../../src/store/index.js';
import { createPostgresStore } from '../../src/stores/postgres/store.js';
import { freshPgStore, pgMigrationsTable } from '../helpers/postgres.js';
import { exerciseStore } from './index.js';

exerciseStore(
  'postgres store',
  async () => {
    const { store, schema, url, cleanup } = await freshPgStore();
    const others: Store[] = [];
    return {
      store,
      migrationsTable: pgMigrationsTable(schema),
      openStore: async () => {
        const other = await createPostgresStore({ connectionString: url, schema });
        others.push(other);
        return other;
      },
      cleanup: async () => {
        await Promise.all(others.map((other) => other.close()));
        await cleanup();
      },
    };
  },
  { crossProcessNotify: true },
);
