import { createSqliteStore } from '../../src/stores/sqlite/store.js';
import { tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseClient } from './client/index.js';

exerciseClient('sqlite', async () => {
  const { store, filename, cleanup } = await tempSqliteStore();
  return { store, openStore: () => createSqliteStore({ filename }), cleanup };
});
