import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import { freshPgStore, pgTestUrl } from '../../helpers/postgres.js';
import { tempLedger } from './ledger.js';
import { allJobs, assertLedgerClean, checkLedger, completedCount } from './ledger-check.js';
import { probePayloads, probeTask } from './probe-task.js';
import { killAllWorkers, WorkerProcess, waitUntil } from './worker-processes.js';

after(killAllWorkers);

const JOBS = 5000;
const CONCURRENCY = 10;
/** The faults, in order, each at an even share of the drain. */
const FAULTS = ['terminate', 'terminate', 'terminate', 'restart', 'terminate', 'terminate'] as const;
/** Runs that must finish after a fault to call the worker resumed. */
const RESUMED_RUNS = 50;
/** Upper bound of each wait: only turns a hang into a failure. */
const WAIT_MS = 60_000;

/** terminateBackends ends every server process serving connections named `applicationName`; returns how many. */
async function terminateBackends(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: pgTestUrl() });
  await admin.connect();
  try {
    const result = await admin.query(
      'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return result.rows.filter((row) => row.terminated === true).length;
  } finally {
    await admin.end();
  }
}

/** restartServer restarts the local cluster (fast shutdown: connections are cut at once) and waits until it answers. */
async function restartServer(): Promise<void> {
  const [version] = readdirSync('/etc/postgresql');
  assert.ok(version, 'no PostgreSQL cluster under /etc/postgresql');
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', '--mode', 'fast', version, 'main', 'restart'], {
    timeout: WAIT_MS,
  });
  await waitUntil(
    async () => {
      const probe = new pg.Client({ connectionString: pgTestUrl() });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await probe.end().catch(() => {});
      }
    },
    () => 'PostgreSQL does not accept connections after the restart',
    WAIT_MS,
    200,
  );
}

test('PostgreSQL: a worker process rides out terminated connections and a server restart, and loses no job', {
  timeout: 240_000,
}, async () => {
  const database = await freshPgStore();
  const { ledger, cleanup } = tempLedger();
  const applicationName = `jobyard_fault_${randomBytes(4).toString('hex')}`;
  try {
    const probe = probeTask(ledger);
    const client = new Jobyard({ store: database.store, tasks: [probe], logger: pino({ level: 'silent' }) });
    const enqueue = async (count: number) =>
      (await client.enqueueMany(probe, probePayloads(count, 1, 8), { maxAttempts: 25 })).map(({ job }) => job.id);
    const jobIds = await enqueue(JOBS);
    const worker = await WorkerProcess.start({
      store: 'postgres',
      database: database.url,
      schema: database.schema,
      ledger: ledger.filename,
      concurrency: CONCURRENCY,
      leaseMs: 1500,
      // No polling: every job must reach the worker through NOTIFY (or the claim loop's own
      // retries), so a listener that does not LISTEN again after a fault shows as a hang.
      pollIntervalMs: 600_000,
      applicationName,
    });
    const finishedRuns = () => ledger.count(worker.pid).finished;
    const describe = async () =>
      `ledger ${JSON.stringify(ledger.count())}; worker running: ${worker.isRunning()}; ` +
      `${worker.messages.filter((message) => message.type === 'error').length} errors reported\n${worker.stderr()}`;

    const terminatedPerFault: number[] = [];
    for (const [index, fault] of FAULTS.entries()) {
      const due = Math.round((JOBS * (index + 1)) / (FAULTS.length + 1));
      await waitUntil(() => finishedRuns() >= due || !worker.isRunning(), describe, WAIT_MS, 5);
      assert.ok(worker.isRunning(), `the worker process exited before fault ${index + 1}\n${await describe()}`);
      if (fault === 'terminate') {
        // Between faults the worker may hold no connection for a moment (its listener
        // reconnecting, idle pool connections closed); a listener that never comes back
        // fails here after WAIT_MS.
        let terminated = 0;
        const deadline = Date.now() + WAIT_MS;
        while (terminated === 0 && Date.now() < deadline) {
          terminated = await terminateBackends(applicationName);
          if (terminated === 0) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(terminated > 0, `fault ${index + 1}: no connection of ${applicationName} to terminate`);
        terminatedPerFault.push(terminated);
      } else {
        await restartServer();
      }
      const resumeFrom = finishedRuns();
      await waitUntil(
        () => finishedRuns() >= Math.min(resumeFrom + RESUMED_RUNS, JOBS) || !worker.isRunning(),
        describe,
        WAIT_MS,
      );
      assert.ok(worker.isRunning(), `the worker process exited after fault ${index + 1} (${fault})\n${await describe()}`);
    }

    const completed = () => completedCount(client);
    await waitUntil(
      async () => (await completed()) === JOBS,
      async () => `${await completed()} completed; ${await describe()}`,
      WAIT_MS,
      100,
    );
    // After all the faults, new jobs still reach the worker (without polling: its LISTEN is back).
    const lateJobIds = await enqueue(10);
    await waitUntil(
      async () => (await completed()) === JOBS + lateJobIds.length,
      async () => `jobs enqueued after the faults did not run: ${await completed()} completed; ${await describe()}`,
      WAIT_MS,
      100,
    );
    assert.ok(worker.isRunning(), `the worker process exited\n${await describe()}`);
    await worker.stop();

    const runs = ledger.runs();
    assert.deepEqual(
      runs.filter((run) => run.pid !== worker.pid),
      [],
      'runs from another process: the worker was restarted',
    );
    const check = checkLedger({
      jobIds: [...jobIds, ...lateJobIds],
      jobs: await allJobs(client),
      runs,
      killedAt: new Map(),
      rescuesOfLiveWorkers: true,
      maxUnstartedAttempts: FAULTS.length * CONCURRENCY,
    });
    const reported = (type: string) => worker.messages.filter((message) => message.type === type).length;
    console.log(
      `connection faults: ${terminatedPerFault.join(', ')} connections terminated; ${JSON.stringify(check.stats)}; worker reported ${reported('error')} errors, ` +
        `${reported('stale')} stale writes, ${reported('rescued')} rescues`,
    );
    assertLedgerClean(check);
  } finally {
    await killAllWorkers();
    await cleanup();
    await database.cleanup();
  }
});
