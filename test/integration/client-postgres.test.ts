import { createPostgresStore } from '../../src/stores/postgres/store.js';
import { freshPgStore } from '../helpers/postgres.js';
import { exerciseClient } from './client/index.js';

exerciseClient(
  'postgres',
  async () => {
    const { store, schema, url, cleanup } = await freshPgStore();
    return { store, openStore: () => createPostgresStore({ connectionString: url, schema }), cleanup };
  },
  { crossProcessNotify: true },
);
