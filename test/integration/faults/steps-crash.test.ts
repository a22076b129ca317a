import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import type { Store } from '../../../src/store/index.js';
import { freshPgStore } from '../../helpers/postgres.js';
import { tempSqliteStore } from '../../helpers/sqlite.js';
import { tempLedger } from './ledger.js';
import { PIPELINE_STEPS, pipelineTask } from './probe-task.js';
import { killAllWorkers, WorkerProcess, type WorkerProcessOptions, waitUntil } from './worker-processes.js';

after(killAllWorkers);

const WAIT_MS = 30_000;

/**
 * A four-step job runs in a worker process that is SIGKILLed during step 3; a second worker
 * process rescues the job after its lease and must resume it at step 3: steps 1 and 2 ran
 * once (their work is counted in the ledger, outside the store), step 3 ran again, and the
 * result is what one uninterrupted run gives.
 */
async function exerciseStepsCrash(store: Store, worker: Omit<WorkerProcessOptions, 'ledger' | 'concurrency' | 'leaseMs'>) {
  const { ledger, cleanup } = tempLedger();
  try {
    const client = new Jobyard({ store, tasks: [pipelineTask(ledger)], logger: pino({ level: 'silent' }) });
    const { job } = await client.enqueue('fault-pipeline', { base: 7 });
    const options = { ...worker, ledger: ledger.filename, concurrency: 1, leaseMs: 1000 };

    const first = await WorkerProcess.start(options);
    await waitUntil(
      () => ledger.stepCounts(job.id).cluster?.started === 1,
      () => 'step 3 started',
      WAIT_MS,
    );
    await first.kill();

    const second = await WorkerProcess.start(options);
    await waitUntil(
      async () => (await client.getJob(job.id))?.status === 'completed',
      () => 'the job completed',
      WAIT_MS,
    );
    await second.stop();

    assert.deepEqual(ledger.stepCounts(job.id), {
      analyze: { started: 1, finished: 1 },
      cluster: { started: 2, finished: 1 },
      sync: { started: 1, finished: 1 },
      trends: { started: 1, finished: 1 },
    });
    const stored = await client.getJob(job.id);
    assert.ok(stored);
    assert.deepEqual(stored.result, { total: 71234 });
    assert.equal(stored.attempt, 2, 'the killed attempt was spent, the rescue ran the second');
    assert.deepEqual(
      stored.steps.map((step) => [step.name, step.status, step.attempt]),
      PIPELINE_STEPS.map((name) => [name, 'completed', name === 'sync' || name === 'analyze' ? 1 : 2]),
    );
    await client.close();
  } finally {
    await cleanup();
  }
}

describe('durable steps survive SIGKILL', { timeout: 120_000 }, () => {
  test('SQLite: resumes at the step the killed worker was in', async () => {
    const database = await tempSqliteStore();
    try {
      await exerciseStepsCrash(database.store, { store: 'sqlite', database: database.filename });
    } finally {
      await database.cleanup();
    }
  });

  test('PostgreSQL: resumes at the step the killed worker was in', async () => {
    const database = await freshPgStore();
    try {
      await exerciseStepsCrash(database.store, { store: 'postgres', database: database.url, schema: database.schema });
    } finally {
      await database.cleanup();
    }
  });
});
