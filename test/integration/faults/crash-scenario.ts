import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import type { Store } from '../../../src/store/index.js';
import { type Ledger, tempLedger } from './ledger.js';
import { allJobs, assertLedgerClean, checkLedger, completedCount } from './ledger-check.js';
import { probePayloads, probeTask } from './probe-task.js';
import { killAllWorkers, randomBetween, WorkerProcess, type WorkerProcessOptions, waitUntil } from './worker-processes.js';

export interface CrashScenario {
  /** The test's store (enqueues and reads; it never runs a worker). */
  store: Store;
  /** How the worker processes reach the same database. */
  worker: Omit<WorkerProcessOptions, 'ledger'>;
  /** Worker processes running at once. */
  processes: number;
  jobs: number;
  kills: number;
}

/** Attempts a job may spend: repeated kills must not fail it for good. */
const MAX_ATTEMPTS = 25;
/** Upper bound of the final drain: only turns a hang into a failure. */
const DRAIN_TIMEOUT_MS = 60_000;

/**
 * runCrashScenario enqueues jobs, runs them in worker processes, SIGKILLs a random worker
 * process at random moments (replacing each), lets the survivors finish, and holds every job
 * against the ledger (see checkLedger).
 */
export async function runCrashScenario(scenario: CrashScenario): Promise<void> {
  const { ledger, cleanup } = tempLedger();
  try {
    await crashAndCheck(scenario, ledger);
  } finally {
    await killAllWorkers();
    await cleanup();
  }
}

async function crashAndCheck(scenario: CrashScenario, ledger: Ledger): Promise<void> {
  const probe = probeTask(ledger);
  const client = new Jobyard({ store: scenario.store, tasks: [probe], logger: pino({ level: 'silent' }) });
  const enqueued = await client.enqueueMany(probe, probePayloads(scenario.jobs, 2, 30), {
    maxAttempts: MAX_ATTEMPTS,
  });
  const jobIds = enqueued.map(({ job }) => job.id);
  const options: WorkerProcessOptions = { ...scenario.worker, ledger: ledger.filename };
  const workers = new Set<WorkerProcess>();
  const startWorker = async () => {
    workers.add(await WorkerProcess.start(options));
  };
  await Promise.all(Array.from({ length: scenario.processes }, startWorker));

  const killedAt = new Map<number, number>();
  const replacements: Promise<void>[] = [];
  const busyWorkers = () =>
    [...workers].filter((worker) => {
      const runs = ledger.count(worker.pid);
      return runs.started > runs.finished;
    });
  // Kill k comes at a random moment while the k-th of (kills + 1) slices of the jobs run, so
  // the kills spread over the whole drain however fast this machine runs the workers; the
  // victim is one with a run in progress.
  const slice = scenario.jobs / (scenario.kills + 1);
  for (let kill = 1; kill <= scenario.kills; kill += 1) {
    const finishedRuns = Math.round(slice * (kill - 0.5 + Math.random()));
    await waitUntil(
      () => ledger.count().finished >= finishedRuns && busyWorkers().length > 0,
      () => `kill ${kill} waits for ${finishedRuns} finished runs; ledger ${JSON.stringify(ledger.count())}`,
      DRAIN_TIMEOUT_MS,
      5,
    );
    const candidates = busyWorkers();
    const victim = candidates[randomBetween(0, candidates.length - 1)] as WorkerProcess;
    workers.delete(victim);
    killedAt.set(victim.pid, await victim.kill());
    // Replacements start in the background: the survivors keep working meanwhile.
    replacements.push(startWorker());
  }
  await Promise.all(replacements);

  await waitUntil(
    async () => (await completedCount(client)) === scenario.jobs,
    async () => `jobs not all completed: ${JSON.stringify(await client.queueStats())}; ledger ${JSON.stringify(ledger.count())}`,
    DRAIN_TIMEOUT_MS,
    100,
  );
  await Promise.all([...workers].map((worker) => worker.stop()));

  const runs = ledger.runs();
  const check = checkLedger({
    jobIds,
    jobs: await allJobs(client),
    runs,
    killedAt,
    rescuesOfLiveWorkers: false,
    maxUnstartedAttempts: scenario.kills * scenario.worker.concurrency,
  });
  const killsDuringRuns = new Set(runs.filter((run) => run.finishedAt === null && killedAt.has(run.pid)).map((run) => run.pid))
    .size;
  console.log(`crash scenario: ${scenario.kills} kills (${killsDuringRuns} during runs); ${JSON.stringify(check.stats)}`);
  assertLedgerClean(check);
  // Guards against a scenario that tests nothing: the kills must hit running jobs.
  assert.ok(killsDuringRuns >= scenario.kills / 2, `only ${killsDuringRuns} of ${scenario.kills} kills hit running jobs`);
  assert.ok(check.stats.rescuedAttempts > 0, 'no job was rescued');
}
