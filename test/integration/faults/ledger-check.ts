import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { Jobyard } from '../../../src/core/index.js';
import type { Job } from '../../../src/types/index.js';
import type { LedgerRun } from './ledger.js';

export interface LedgerCheckInput {
  /** Every job the test enqueued. */
  jobIds: string[];
  /** The jobs as the store holds them at the end. */
  jobs: Job[];
  runs: LedgerRun[];
  /** When each killed worker process was seen dead (ms since the epoch); an unfinished run of it ends then. */
  killedAt: ReadonlyMap<number, number>;
  /**
   * Whether an attempt of a worker that was never killed may be rescued: yes when the store's
   * connections are cut (its outcome could not be written), never in a clean crash test.
   */
  rescuesOfLiveWorkers: boolean;
  /**
   * Most attempts with no run at all: claimed by a worker that died (or lost the claim's
   * answer) before the handler began, e.g. the concurrency times the number of faults.
   */
  maxUnstartedAttempts: number;
}

export interface LedgerCheckStats {
  jobs: number;
  runs: number;
  /** Attempts that ended by their lease expiring (one "lease expired" error each). */
  rescuedAttempts: number;
  /** Rescued attempts the ledger has no run of. */
  unstartedAttempts: number;
  /** Runs cut short by a kill. */
  interruptedRuns: number;
}

export interface LedgerCheck {
  problems: string[];
  stats: LedgerCheckStats;
  /** The first job with a problem, with its runs, to print. */
  firstOffender: { job: Job | null; runs: LedgerRun[] } | null;
}

const LEASE_EXPIRED = 'lease expired';

/**
 * checkLedger holds every enqueued job against the ledger of runs: each job completed by its
 * last attempt's run, whose result it holds; every earlier attempt ended by "lease expired",
 * after its worker was killed; no attempt ran twice; no two runs of a job overlapped in time
 * (a killed run ends when its process was seen dead).
 */
export function checkLedger(input: LedgerCheckInput): LedgerCheck {
  const jobsById = new Map(input.jobs.map((job) => [job.id, job]));
  const runsByJob = new Map<string, LedgerRun[]>();
  for (const run of input.runs) {
    const runs = runsByJob.get(run.jobId) ?? [];
    runs.push(run);
    runsByJob.set(run.jobId, runs);
  }
  const stats: LedgerCheckStats = {
    jobs: 0,
    runs: input.runs.length,
    rescuedAttempts: 0,
    unstartedAttempts: 0,
    interruptedRuns: 0,
  };
  const problems: string[] = [];
  let firstOffender: LedgerCheck['firstOffender'] = null;
  const enqueued = new Set(input.jobIds);
  for (const jobId of runsByJob.keys()) {
    if (!enqueued.has(jobId)) problems.push(`the ledger has runs of job ${jobId}, which the test never enqueued`);
  }
  for (const jobId of input.jobIds) {
    const job = jobsById.get(jobId) ?? null;
    const runs = runsByJob.get(jobId) ?? [];
    const jobProblems = job ? checkJob(job, runs, input, stats) : [`job ${jobId} is missing from the store`];
    if (jobProblems.length > 0 && !firstOffender) firstOffender = { job, runs };
    problems.push(...jobProblems);
    stats.jobs += job ? 1 : 0;
  }
  if (stats.unstartedAttempts > input.maxUnstartedAttempts) {
    problems.push(
      `${stats.unstartedAttempts} rescued attempts never started, more than the ${input.maxUnstartedAttempts} the faults explain`,
    );
  }
  return { problems, stats, firstOffender };
}

function checkJob(job: Job, runs: LedgerRun[], input: LedgerCheckInput, stats: LedgerCheckStats): string[] {
  const problems: string[] = [];
  const where = `job ${job.id} (${job.status}, attempt ${job.attempt})`;
  const time = (ms: number) => new Date(ms).toISOString();
  if (job.status !== 'completed') problems.push(`${where} did not complete`);

  const byAttempt = new Map<number, LedgerRun>();
  for (const run of runs) {
    const twin = byAttempt.get(run.attempt);
    if (twin) problems.push(`${where}: attempt ${run.attempt} ran twice, in processes ${twin.pid} and ${run.pid}`);
    if (run.attempt < 1 || run.attempt > job.attempt) problems.push(`${where}: the ledger has a run of attempt ${run.attempt}`);
    byAttempt.set(run.attempt, run);
    if (run.finishedAt === null && input.killedAt.has(run.pid)) stats.interruptedRuns += 1;
  }

  const last = byAttempt.get(job.attempt);
  if (!last) problems.push(`${where}: its last attempt never ran`);
  else if (last.finishedAt === null) problems.push(`${where}: the run of its last attempt never finished`);
  else if (!isDeepStrictEqual(job.result, { pid: last.pid, attempt: last.attempt })) {
    problems.push(`${where}: holds result ${JSON.stringify(job.result)}, not that of its last run (process ${last.pid})`);
  }

  const errors = job.errors.map((error) => ({ attempt: error.attempt, message: error.message }));
  const expectedErrors = Array.from({ length: job.attempt - 1 }, (_, index) => ({ attempt: index + 1, message: LEASE_EXPIRED }));
  if (!isDeepStrictEqual(errors, expectedErrors)) {
    problems.push(`${where}: errors ${JSON.stringify(errors)}, expected one "${LEASE_EXPIRED}" per earlier attempt`);
  }
  for (let attempt = 1; attempt < job.attempt; attempt += 1) {
    stats.rescuedAttempts += 1;
    const run = byAttempt.get(attempt);
    if (!run) {
      stats.unstartedAttempts += 1;
      continue;
    }
    const killedAt = input.killedAt.get(run.pid);
    const rescuedAt = Date.parse(job.errors.find((error) => error.attempt === attempt)?.at ?? '');
    if (killedAt === undefined) {
      if (!input.rescuesOfLiveWorkers)
        problems.push(`${where}: attempt ${attempt} was rescued, but its process ${run.pid} was never killed`);
    } else if (rescuedAt < killedAt) {
      problems.push(
        `${where}: attempt ${attempt} was rescued at ${time(rescuedAt)}, before its process ${run.pid} was killed at ${time(killedAt)}`,
      );
    }
  }

  const ordered = [...runs].sort((a, b) => a.startedAt - b.startedAt || a.attempt - b.attempt);
  for (const [index, run] of ordered.entries()) {
    const end = run.finishedAt ?? input.killedAt.get(run.pid);
    if (end === undefined) {
      problems.push(
        `${where}: the run of attempt ${run.attempt} in process ${run.pid} never finished, and that process was not killed`,
      );
      continue;
    }
    const next = ordered[index + 1];
    if (!next) continue;
    if (next.startedAt < end) {
      problems.push(
        `${where}: attempt ${next.attempt} (process ${next.pid}) started at ${time(next.startedAt)}, ` +
          `before attempt ${run.attempt} (process ${run.pid}) ended at ${time(end)}`,
      );
    }
    if (next.attempt < run.attempt) problems.push(`${where}: attempt ${next.attempt} ran after attempt ${run.attempt}`);
  }
  return problems;
}

/** assertLedgerClean fails with the problems, the counts and the first offending job when the check found any. */
export function assertLedgerClean(check: LedgerCheck): void {
  if (check.problems.length === 0) return;
  assert.fail(
    [
      `${check.problems.length} ledger problems; stats ${JSON.stringify(check.stats)}`,
      ...check.problems.slice(0, 20).map((problem) => `  - ${problem}`),
      `first offending job: ${JSON.stringify(check.firstOffender?.job ?? null)}`,
      `its runs: ${JSON.stringify(check.firstOffender?.runs ?? [])}`,
    ].join('\n'),
  );
}

/** allJobs reads every job of the client's store. */
export async function allJobs(client: Jobyard): Promise<Job[]> {
  const jobs: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listJobs({ limit: 500, cursor });
    jobs.push(...page.jobs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return jobs;
}

/** completedCount counts the completed jobs of every queue. */
export async function completedCount(client: Jobyard): Promise<number> {
  return (await client.queueStats()).reduce((sum, stats) => sum + stats.counts.completed, 0);
}
