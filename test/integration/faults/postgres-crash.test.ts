import { after, test } from 'node:test';
import { freshPgStore } from '../../helpers/postgres.js';
import { runCrashScenario } from './crash-scenario.js';
import { killAllWorkers } from './worker-processes.js';

after(killAllWorkers);

test('PostgreSQL: 3 worker processes SIGKILLed at 10 random moments lose no job and never run one twice at once', {
  timeout: 120_000,
}, async () => {
  const database = await freshPgStore();
  try {
    await runCrashScenario({
      store: database.store,
      worker: { store: 'postgres', database: database.url, schema: database.schema, concurrency: 2, leaseMs: 1000 },
      processes: 3,
      jobs: 1000,
      kills: 10,
    });
  } finally {
    await database.cleanup();
  }
});
