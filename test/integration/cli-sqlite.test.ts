import { tempSqliteStore } from '../helpers/sqlite.js';
import { exerciseCli } from './cli/index.js';

exerciseCli('sqlite', async () => {
  const { store, filename, cleanup } = await tempSqliteStore();
  return { store, description: { kind: 'sqlite', filename }, cleanup };
});
