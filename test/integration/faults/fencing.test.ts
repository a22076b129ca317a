import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import type { Store } from '../../../src/store/index.js';
import { freshPgStore } from '../../helpers/postgres.js';
import { tempSqliteStore } from '../../helpers/sqlite.js';
import { tempLedger } from './ledger.js';
import { probeTask } from './probe-task.js';
import { killAllWorkers, WorkerProcess, type WorkerProcessOptions, waitUntil } from './worker-processes.js';

after(killAllWorkers);

interface FencingDatabase {
  store: Store;
  worker: Pick<WorkerProcessOptions, 'store' | 'database' | 'schema'>;
  cleanup: () => Promise<void>;
}

const WAIT_MS = 20_000;

/**
 * A worker process is frozen (SIGSTOP) in the middle of a job until its lease has expired,
 * another worker process takes the job over and completes it, then the first one resumes
 * (SIGCONT) and finishes its run: its completion must be rejected by the lease token.
 */
async function exerciseFencing(database: FencingDatabase): Promise<void> {
  const { ledger, cleanup } = tempLedger();
  try {
    const probe = probeTask(ledger);
    const client = new Jobyard({ store: database.store, tasks: [probe], logger: pino({ level: 'silent' }) });
    const options: WorkerProcessOptions = { ...database.worker, ledger: ledger.filename, concurrency: 1, leaseMs: 1000 };
    const frozen = await WorkerProcess.start(options);
    // The run blocks its process for 800 ms (within the lease): the test freezes it inside, before it can settle.
    const { job } = await client.enqueue(probe, { sleepMs: 800, blocking: true }, { maxAttempts: 5 });
    await waitUntil(
      () => ledger.count(frozen.pid).started > 0,
      () => 'the first worker never started the job',
      WAIT_MS,
      2,
    );
    frozen.signal('SIGSTOP');
    assert.equal(ledger.count(frozen.pid).finished, 0, 'the first worker finished its run before it could be frozen');

    const rescuer = await WorkerProcess.start(options);
    await waitUntil(
      async () => (await client.getJob(job.id))?.status === 'completed',
      async () =>
        `the second worker did not complete the job: ${JSON.stringify(await client.getJob(job.id))}\n${rescuer.stderr()}`,
      WAIT_MS,
    );
    frozen.signal('SIGCONT');
    const stale = await frozen.waitFor((message) => message.type === 'stale' && message.jobId === job.id, 'job:stale', WAIT_MS);
    await Promise.all([frozen.stop(), rescuer.stop()]);

    // The fenced write is the settle of the finished run (not a lease renewal noticing the loss first).
    assert.deepEqual(stale, { type: 'stale', jobId: job.id, attempt: 1, action: 'completed' });
    const final = await client.getJob(job.id);
    assert.ok(final);
    assert.equal(final.status, 'completed');
    assert.equal(final.attempt, 2);
    assert.deepEqual(final.result, { pid: rescuer.pid, attempt: 2 });
    assert.deepEqual(
      final.errors.map(({ attempt, message }) => ({ attempt, message })),
      [{ attempt: 1, message: 'lease expired' }],
    );
    const rescuedAt = Date.parse(final.errors[0]?.at ?? '');
    const [staleRun, newerRun, ...others] = ledger.runs();
    assert.deepEqual(others, [], 'the job ran more than twice');
    assert.ok(staleRun && newerRun);
    assert.deepEqual([staleRun.attempt, staleRun.pid, newerRun.attempt, newerRun.pid], [1, frozen.pid, 2, rescuer.pid]);
    assert.ok(newerRun.finishedAt !== null && staleRun.finishedAt !== null, 'a run never finished');
    assert.ok(rescuedAt <= newerRun.startedAt, 'the newer attempt started before the rescue');
    assert.ok(
      staleRun.finishedAt > newerRun.finishedAt,
      `the stale run finished at ${staleRun.finishedAt}, before the newer one (${newerRun.finishedAt}): nothing was fenced`,
    );
  } finally {
    await killAllWorkers();
    await cleanup();
    await database.cleanup();
  }
}

describe('fencing across processes', { timeout: 60_000 }, () => {
  test('SQLite: a worker frozen past its lease cannot overwrite the job another worker completed', async () => {
    const { store, filename, cleanup } = await tempSqliteStore();
    await exerciseFencing({ store, worker: { store: 'sqlite', database: filename }, cleanup });
  });

  test('PostgreSQL: a worker frozen past its lease cannot overwrite the job another worker completed', async () => {
    const { store, url, schema, cleanup } = await freshPgStore();
    await exerciseFencing({ store, worker: { store: 'postgres', database: url, schema }, cleanup });
  });
});
