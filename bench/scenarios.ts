import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineTask, type Jobyard, StoreUnavailableError } from '../src/index.js';
import { checkDeadline, percentile, perSecond, sortedCopy, within } from './measure.js';
import type { BenchOptions, ScenarioName, StoreName } from './options.js';
import type { CallStats, TimedStore } from './timed-store.js';

/** Metric is one figure a scenario reports. */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  /** Lowest and highest value over repeated runs, when the value is their median. */
  range?: [number, number];
}

/** StoreCallBreakdown is the store time of one measured phase, per method. */
export interface StoreCallBreakdown {
  phase: string;
  elapsedMs: number;
  /** Share of the phase the event loop was busy (0..1); the rest it waited for I/O or timers. */
  eventLoopUtilization: number;
  calls: [string, CallStats][];
}

/** startPhase starts timing a measured phase; `end` returns its duration and store calls. */
function startPhase(timed: TimedStore, phase: string): { end(): StoreCallBreakdown } {
  timed.takeSnapshot();
  const loopAtStart = performance.eventLoopUtilization();
  const startedAt = performance.now();
  return {
    end: () => ({
      phase,
      elapsedMs: performance.now() - startedAt,
      eventLoopUtilization: performance.eventLoopUtilization(loopAtStart).utilization,
      calls: timed.takeSnapshot(),
    }),
  };
}

/** ScenarioOutcome is what one scenario reports on one store. */
export interface ScenarioOutcome {
  metrics: Metric[];
  notes: string[];
  breakdowns: StoreCallBreakdown[];
}

/** ScenarioContext gives a scenario its settings and fresh clients on isolated stores. */
export interface ScenarioContext {
  storeName: StoreName;
  options: BenchOptions;
  /** Performance.now() time by which the scenario must be done. */
  deadline: number;
  /** withClient runs `work` with a client on a fresh store, then closes the client and removes the store. */
  withClient<T>(work: (client: Jobyard, timed: TimedStore) => Promise<T>): Promise<T>;
  log(message: string): void;
}

type Scenario = (context: ScenarioContext) => Promise<ScenarioOutcome>;

/** The no-op task every throughput scenario runs: what is measured is the queue, not the work. */
const noop = defineTask('bench-noop', { handler: (_payload: { n: number }) => null });

/** Jobs per enqueueMany call when filling a queue before a measurement (not itself measured). */
const FILL_BATCH = 5_000;
/** Worker concurrency while loading the history: large claims and settle batches load fastest. */
const HISTORY_LOAD_CONCURRENCY = 1_000;
/** Tries of one setup batch while the store is unavailable. */
const SETUP_ATTEMPTS = 10;
/** Jobs enqueued and drained before the measurements of each store. */
const WARM_UP_JOBS = 5_000;
/** Most enqueued-but-unfinished jobs while loading the history, so the backlog stays bounded. */
const HISTORY_LOAD_BACKLOG = 50_000;

function payloads(from: number, count: number): { n: number }[] {
  return Array.from({ length: count }, (_, index) => ({ n: from + index }));
}

/**
 * enqueueBatch enqueues no-op jobs for setup, retrying while the store is unavailable: other
 * test suites on a shared machine restart PostgreSQL or end its connections, and a lost
 * setup batch should not cost a benchmark that took minutes to prepare.
 */
async function enqueueBatch(client: Jobyard, from: number, count: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.enqueueMany(noop, payloads(from, count));
      return;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt === SETUP_ATTEMPTS) throw error;
      await sleep(1_000);
    }
  }
}

/** fillQueue enqueues `count` no-op jobs in batches. */
async function fillQueue(client: Jobyard, count: number, deadline: number): Promise<void> {
  for (let from = 0; from < count; from += FILL_BATCH) {
    await enqueueBatch(client, from, Math.min(FILL_BATCH, count - from));
    checkDeadline(deadline, () => `filled ${from} of ${count} jobs`);
  }
}

/** CompletionCounter counts `job:completed` events from the moment it is created. */
interface CompletionCounter {
  count(): number;
  /** Resolves once `target` jobs have completed. */
  reached(target: number): Promise<void>;
  dispose(): void;
}

function countCompletions(client: Jobyard): CompletionCounter {
  let completed = 0;
  let waiters: { target: number; resolve: () => void }[] = [];
  const dispose = client.events.on('job:completed', () => {
    completed += 1;
    if (!waiters.some((waiter) => completed >= waiter.target)) return;
    for (const waiter of waiters) if (completed >= waiter.target) waiter.resolve();
    waiters = waiters.filter((waiter) => completed < waiter.target);
  });
  return {
    count: () => completed,
    reached: (target) =>
      completed >= target ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ target, resolve })),
    dispose,
  };
}

function workerOptions(options: BenchOptions, concurrency = options.settings.concurrency) {
  const { prefetch, leaseMs, pollIntervalMs } = options.settings;
  return { concurrency, prefetch, leaseMs, pollIntervalMs };
}

/** completedCount reads how many jobs the store holds as completed (to check a run, not to time it). */
async function completedCount(client: Jobyard): Promise<number> {
  return (await client.queueStats()).reduce((sum, stats) => sum + stats.counts.completed, 0);
}

/** 1. enqueueMany throughput. */
const bulkEnqueue: Scenario = async ({ options, deadline, withClient }) => {
  const { bulkJobs, bulkBatch } = options.sizes;
  return withClient(async (client, timed) => {
    const batches = [];
    for (let from = 0; from < bulkJobs; from += bulkBatch) batches.push(payloads(from, Math.min(bulkBatch, bulkJobs - from)));
    const phase = startPhase(timed, 'enqueueMany');
    let enqueued = 0;
    for (const batch of batches) {
      enqueued += (await client.enqueueMany(noop, batch)).length;
      checkDeadline(deadline, () => `${enqueued} of ${bulkJobs} enqueued`);
    }
    const breakdown = phase.end();
    return {
      metrics: [
        {
          name: `enqueueMany ${bulkJobs.toLocaleString('en')} jobs`,
          value: perSecond(enqueued, breakdown.elapsedMs),
          unit: 'jobs/s',
        },
      ],
      notes: [`${batches.length} enqueueMany call(s) of up to ${bulkBatch.toLocaleString('en')} jobs`],
      breakdowns: [breakdown],
    };
  });
};

/** 2. enqueue() throughput and call latency with concurrent callers awaiting one job at a time. */
const singleEnqueue: Scenario = async ({ options, deadline, withClient }) => {
  const { singleJobs, singleCallers } = options.sizes;
  return withClient(async (client, timed) => {
    const callLatencies: number[] = [];
    let next = 0;
    const caller = async () => {
      while (next < singleJobs) {
        const n = next++;
        const calledAt = performance.now();
        await client.enqueue(noop, { n });
        callLatencies.push(performance.now() - calledAt);
        checkDeadline(deadline, () => `${callLatencies.length} of ${singleJobs} enqueued`);
      }
    };
    const phase = startPhase(timed, 'enqueue');
    await Promise.all(Array.from({ length: singleCallers }, caller));
    const breakdown = phase.end();
    const sorted = sortedCopy(callLatencies);
    return {
      metrics: [
        {
          name: `enqueue ${singleJobs.toLocaleString('en')} jobs, ${singleCallers} callers`,
          value: perSecond(singleJobs, breakdown.elapsedMs),
          unit: 'jobs/s',
        },
        { name: 'enqueue() call p50', value: percentile(sorted, 50), unit: 'ms' },
        { name: 'enqueue() call p99', value: percentile(sorted, 99), unit: 'ms' },
      ],
      notes: [],
      breakdowns: [breakdown],
    };
  });
};

/** drainOnce times one worker from start() until `jobs` pre-enqueued jobs have completed. */
async function drainOnce(
  client: Jobyard,
  timed: TimedStore,
  options: BenchOptions,
  jobs: number,
  deadline: number,
  phaseName: string,
): Promise<StoreCallBreakdown> {
  const completedBefore = await completedCount(client);
  await fillQueue(client, jobs, deadline);
  const completions = countCompletions(client);
  try {
    const phase = startPhase(timed, phaseName);
    await client.start(workerOptions(options));
    await within(completions.reached(jobs), deadline, () => `${completions.count()} of ${jobs} completed`);
    const breakdown = phase.end();
    await client.stop();
    const stored = (await completedCount(client)) - completedBefore;
    if (stored !== jobs) throw new Error(`drain reported ${jobs} completions but the store holds ${stored} more completed jobs`);
    return breakdown;
  } finally {
    completions.dispose();
  }
}

/** 3. Drain throughput of one worker. */
const drain: Scenario = async ({ options, deadline, withClient }) => {
  const { drainJobs } = options.sizes;
  return withClient(async (client, timed) => {
    const breakdown = await drainOnce(client, timed, options, drainJobs, deadline, 'drain');
    return {
      metrics: [
        {
          name: `drain ${drainJobs.toLocaleString('en')} no-op jobs, concurrency ${options.settings.concurrency}`,
          value: perSecond(drainJobs, breakdown.elapsedMs),
          unit: 'jobs/s',
        },
      ],
      notes: [],
      breakdowns: [breakdown],
    };
  });
};

/** 4. Enqueue-to-start latency at a steady rate into an idle running worker. */
const latency: Scenario = async ({ options, deadline, withClient }) => {
  const { latencyRatePerSecond, latencySeconds } = options.sizes;
  const jobs = latencyRatePerSecond * latencySeconds;
  const enqueuedAt = new Float64Array(jobs);
  const startedAt = new Float64Array(jobs);
  const probe = defineTask('bench-latency', {
    handler: ({ n }: { n: number }) => {
      startedAt[n] = performance.now();
      return null;
    },
  });
  return withClient(async (client, timed) => {
    client.register(probe);
    const completions = countCompletions(client);
    const callLatencies: number[] = [];
    try {
      await client.start(workerOptions(options));
      // Let the worker find the queue empty and go idle.
      await sleep(250);
      const phase = startPhase(timed, 'latency');
      const intervalMs = 1000 / latencyRatePerSecond;
      const firstAt = performance.now();
      const calls: Promise<void>[] = [];
      for (let n = 0; n < jobs; n++) {
        const wait = firstAt + n * intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
        checkDeadline(deadline, () => `${n} of ${jobs} enqueued`);
        // Open loop: the next enqueue goes out on schedule even while this one is pending.
        enqueuedAt[n] = performance.now();
        calls.push(
          client.enqueue(probe, { n }).then(() => void callLatencies.push(performance.now() - (enqueuedAt[n] as number))),
        );
      }
      const scheduleMs = performance.now() - firstAt;
      await within(Promise.all(calls), deadline, () => `${callLatencies.length} of ${jobs} enqueue calls returned`);
      await within(completions.reached(jobs), deadline, () => `${completions.count()} of ${jobs} completed`);
      const breakdown = phase.end();
      const toStart = sortedCopy(Array.from(startedAt, (at, n) => at - (enqueuedAt[n] as number)));
      const enqueueCalls = sortedCopy(callLatencies);
      return {
        metrics: [
          {
            name: `enqueue-to-start p50 (${latencyRatePerSecond} jobs/s for ${latencySeconds} s)`,
            value: percentile(toStart, 50),
            unit: 'ms',
          },
          { name: 'enqueue-to-start p99', value: percentile(toStart, 99), unit: 'ms' },
          { name: 'enqueue-to-start max', value: percentile(toStart, 100), unit: 'ms' },
          { name: 'enqueue() call p99 at that rate', value: percentile(enqueueCalls, 99), unit: 'ms' },
        ],
        notes: [`achieved enqueue rate ${perSecond(jobs, scheduleMs).toFixed(1)} jobs/s`],
        breakdowns: [breakdown],
      };
    } finally {
      completions.dispose();
    }
  });
};

/**
 * loadHistory leaves up to `target` completed jobs in the store through the public API:
 * enqueueMany in batches while a worker with a large concurrency drains them. Stops
 * enqueuing when `budgetMs` runs out and returns how many rows it loaded.
 */
async function loadHistory(
  client: Jobyard,
  options: BenchOptions,
  target: number,
  budgetMs: number,
  log: (message: string) => void,
): Promise<{ loaded: number; elapsedMs: number }> {
  const startedAt = performance.now();
  const stopEnqueuingAt = startedAt + budgetMs;
  // Draining what was enqueued by the end of the budget gets one scenario time limit more.
  const deadline = stopEnqueuingAt + options.settings.scenarioTimeoutMs;
  const completions = countCompletions(client);
  const progress = () => `history: ${completions.count()} of ${target} rows completed`;
  try {
    await client.start(workerOptions(options, HISTORY_LOAD_CONCURRENCY));
    let enqueued = 0;
    let loggedAt = startedAt;
    while (enqueued < target && performance.now() < stopEnqueuingAt) {
      if (enqueued - completions.count() >= HISTORY_LOAD_BACKLOG) {
        await within(completions.reached(enqueued - HISTORY_LOAD_BACKLOG / 2), deadline, progress);
        continue;
      }
      const count = Math.min(FILL_BATCH, target - enqueued);
      await enqueueBatch(client, enqueued, count);
      enqueued += count;
      if (performance.now() - loggedAt > 15_000) {
        loggedAt = performance.now();
        log(
          `history: ${completions.count().toLocaleString('en')} of ${target.toLocaleString('en')} rows after ${((loggedAt - startedAt) / 1000).toFixed(0)} s`,
        );
      }
    }
    // What was enqueued must finish, so the measured drain starts from an idle table.
    await within(completions.reached(enqueued), deadline, progress);
    await client.stop();
    return { loaded: enqueued, elapsedMs: performance.now() - startedAt };
  } finally {
    completions.dispose();
  }
}

/** 5. Drain time of the same jobs over a small and a large history of finished rows. */
const history: Scenario = async ({ storeName, options, deadline, withClient, log }) => {
  const { historySmall, historyLarge, historyDrainJobs } = options.sizes;
  const metrics: Metric[] = [];
  const notes: string[] = [];
  const breakdowns: StoreCallBreakdown[] = [];
  for (const [size, target] of [
    ['small', historySmall],
    ['large', historyLarge],
  ] as const) {
    await withClient(async (client, timed) => {
      const budgetMs = options.settings.historySetupBudgetMs[storeName];
      const { loaded, elapsedMs: loadMs } = await loadHistory(client, options, target, budgetMs, log);
      notes.push(
        `${size} history: ${loaded.toLocaleString('en')} completed rows loaded in ${(loadMs / 1000).toFixed(1)} s ` +
          `(${perSecond(loaded, loadMs).toFixed(0)} jobs/s enqueued and drained at concurrency ${HISTORY_LOAD_CONCURRENCY})` +
          (loaded < target
            ? `; the ${(budgetMs / 1000).toFixed(0)} s setup budget ran out before ${target.toLocaleString('en')}`
            : ''),
      );
      metrics.push({ name: `${size} history: finished rows in the table`, value: loaded, unit: 'rows' });
      // The large history is measured twice: right after the burst that made it, and after an
      // idle pause in which PostgreSQL's autovacuum may clean the claim index of its dead entries.
      const rounds = size === 'large' ? ['right after loading', `after ${options.sizes.historyPauseSeconds} s idle`] : [''];
      for (const [round, when] of rounds.entries()) {
        if (round > 0) await sleep(options.sizes.historyPauseSeconds * 1000);
        const label = `${size} history${when ? `, ${when}` : ''}`;
        // Each measurement gets its own time limit: the history may have taken minutes.
        const measureDeadline = Math.max(deadline, performance.now() + options.settings.scenarioTimeoutMs);
        const breakdown = await drainOnce(client, timed, options, historyDrainJobs, measureDeadline, `drain over ${label}`);
        const claim = breakdown.calls.find(([method]) => method === 'jobClaim')?.[1];
        metrics.push(
          {
            name: `${label}: drain ${historyDrainJobs.toLocaleString('en')} jobs`,
            value: perSecond(historyDrainJobs, breakdown.elapsedMs),
            unit: 'jobs/s',
          },
          { name: `${label}: jobClaim mean`, value: claim ? claim.totalMs / claim.calls : Number.NaN, unit: 'ms' },
        );
        breakdowns.push(breakdown);
      }
    });
  }
  return { metrics, notes, breakdowns };
};

/** warmUp enqueues and drains a few thousand jobs, untimed, so the first measured scenario does not pay for JIT compilation. */
export async function warmUp({ options, deadline, withClient }: ScenarioContext): Promise<void> {
  await withClient((client, timed) => drainOnce(client, timed, options, WARM_UP_JOBS, deadline, 'warm-up'));
}

export const SCENARIOS: Record<ScenarioName, { title: string; run: Scenario }> = {
  bulk: { title: '1. bulk enqueue (enqueueMany)', run: bulkEnqueue },
  single: { title: '2. single enqueue (concurrent callers)', run: singleEnqueue },
  drain: { title: '3. drain (one worker)', run: drain },
  latency: { title: '4. enqueue-to-start latency', run: latency },
  history: { title: '5. claim cost as history grows', run: history },
};
