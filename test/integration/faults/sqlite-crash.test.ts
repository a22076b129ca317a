import { after, test } from 'node:test';
import { tempSqliteStore } from '../../helpers/sqlite.js';
import { runCrashScenario } from './crash-scenario.js';
import { killAllWorkers } from './worker-processes.js';

after(killAllWorkers);

test('SQLite: a worker process SIGKILLed at 10 random moments loses no job and never runs one twice at once', {
  timeout: 120_000,
}, async () => {
  const database = await tempSqliteStore();
  try {
    await runCrashScenario({
      store: database.store,
      worker: { store: 'sqlite', database: database.filename, concurrency: 5, leaseMs: 1000 },
      processes: 1,
      jobs: 1000,
      kills: 10,
    });
  } finally {
    await database.cleanup();
  }
});
