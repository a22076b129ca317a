import { freshPgStore } from '../helpers/postgres.js';
import { exerciseCli } from './cli/index.js';

exerciseCli('postgres', async () => {
  const { store, schema, url, cleanup } = await freshPgStore();
  return { store, description: { kind: 'postgres', connectionString: url, schema }, cleanup };
});
