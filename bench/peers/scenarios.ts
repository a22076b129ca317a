/**
 * The peer scenarios of issue 9, written once against PeerAdapter. Each run starts on an
 * empty queue (the harness sets the adapter up before and drops it after) and stops at its
 * deadline. Drains run in worker processes, so one and two processes are measured alike.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkDeadline, percentile, perSecond, sortedCopy, within } from '../measure.js';
import type { Sizes } from '../options.js';
import { type AdapterPlace, type BenchPayload, machineClockMs, type PeerAdapter, payloadsFrom } from './adapter.js';
import type { AdapterName } from './adapters/index.js';
import { vacuumAnalyze } from './pg-admin.js';
import { WorkerProcesses } from './processes.js';

/** Sizes are the workloads, shared with the core benchmark (bench/options.ts); `--quick` shrinks them. */
export type { Sizes };

/** MetricKey names one figure of the report; METRICS says how to show it. */
export type MetricKey =
  | 'bulk'
  | 'single'
  | 'drain'
  | 'drain2'
  | 'latencyLocalP50'
  | 'latencyLocalP95'
  | 'latencyLocalP99'
  | 'latencyRemoteP50'
  | 'latencyRemoteP95'
  | 'latencyRemoteP99'
  | 'historySmall'
  | 'historyLarge'
  | 'historySlowdown'
  | 'historyRows';

export interface MetricInfo {
  label: string;
  unit: string;
  better: 'higher' | 'lower';
}

export const METRICS: Record<MetricKey, MetricInfo> = {
  bulk: { label: '1. bulk enqueue', unit: 'jobs/s', better: 'higher' },
  single: { label: '2. single enqueue, 16 callers', unit: 'jobs/s', better: 'higher' },
  drain: { label: '3. drain, 1 process, concurrency 24', unit: 'jobs/s', better: 'higher' },
  latencyLocalP50: { label: '4a. latency p50, worker in the same process', unit: 'ms', better: 'lower' },
  latencyLocalP95: { label: '4a. latency p95, same process', unit: 'ms', better: 'lower' },
  latencyLocalP99: { label: '4a. latency p99, same process', unit: 'ms', better: 'lower' },
  latencyRemoteP50: { label: '4b. latency p50, worker in another process', unit: 'ms', better: 'lower' },
  latencyRemoteP95: { label: '4b. latency p95, other process', unit: 'ms', better: 'lower' },
  latencyRemoteP99: { label: '4b. latency p99, other process', unit: 'ms', better: 'lower' },
  historySmall: { label: '5. drain time per 10k, small history', unit: 'ms', better: 'lower' },
  historyLarge: { label: '5. drain time per 10k, large history', unit: 'ms', better: 'lower' },
  historySlowdown: { label: '5. large / small history drain time', unit: '×', better: 'lower' },
  historyRows: { label: '5. completed jobs in the large history', unit: 'rows', better: 'higher' },
  drain2: { label: '6. drain, 2 processes × concurrency 24', unit: 'jobs/s', better: 'higher' },
};

export type Metrics = Partial<Record<MetricKey, number>>;

/** ScenarioContext is what one run of a scenario on one adapter gets. */
export interface ScenarioContext {
  adapterName: AdapterName;
  /** Set up and empty. */
  adapter: PeerAdapter;
  place: AdapterPlace;
  sizes: Sizes;
  concurrency: number;
  /** performance.now() time by which the run must be done. */
  deadline: number;
  /** Repetitions, for the scenario that repeats inside one setup (history). */
  repetitions: number;
  /** Time allowed to load the large history (history only), in ms; what is loaded by then is used. */
  historyBudgetMs: number;
  /** Flags added to worker processes (e.g. --cpu-prof). */
  workerExecArgv: string[];
  log(message: string): void;
}

export type ScenarioName = 'bulk' | 'single' | 'drain' | 'latency' | 'history' | 'drain2';

export interface Scenario {
  title: string;
  /** Whether an adapter takes part (e.g. two-process drains are for PostgreSQL systems). */
  appliesTo(adapter: PeerAdapter): boolean;
  /** True when the scenario repeats inside one run (it returns one Metrics per repetition). */
  repeatsInside: boolean;
  run(context: ScenarioContext): Promise<Metrics[]>;
}

/** Jobs per enqueueMany call when filling a queue before a measurement (not itself measured). */
const FILL_BATCH = 5_000;
/** Latency samples dropped at the start: connection and JIT warm-up, not steady state. */
const LATENCY_WARMUP_SECONDS = 0.25;

async function fillQueue(context: ScenarioContext, count: number): Promise<void> {
  for (let from = 0; from < count; from += FILL_BATCH) {
    await context.adapter.enqueueMany(payloadsFrom(from, Math.min(FILL_BATCH, count - from)));
    checkDeadline(context.deadline, () => `filled ${from} of ${count} jobs`);
  }
}

/** drainInProcesses fills the queue, drains it with `processes` worker processes and returns jobs/s. */
async function drainInProcesses(context: ScenarioContext, jobs: number, processes: number): Promise<number> {
  await fillQueue(context, jobs);
  const workers = await WorkerProcesses.spawn({
    count: processes,
    adapter: context.adapterName,
    place: context.place,
    concurrency: context.concurrency,
    extraExecArgv: context.workerExecArgv,
  });
  try {
    const progress = () => `${workers.handled} of ${jobs} jobs started`;
    const startedAt = await within(workers.start(), context.deadline, progress);
    const lastStartedAt = await within(workers.untilHandled(jobs), context.deadline, progress);
    await within(workers.stop(), context.deadline, progress);
    await expectDrained(context, jobs, workers.handled);
    return perSecond(jobs, lastStartedAt - startedAt);
  } finally {
    workers.kill();
  }
}

async function expectDrained(context: ScenarioContext, jobs: number, handled: number): Promise<void> {
  const unfinished = await context.adapter.unfinishedCount();
  if (unfinished !== 0) throw new Error(`${unfinished} of ${jobs} jobs still unfinished after the drain`);
  if (handled < jobs) throw new Error(`only ${handled} of ${jobs} jobs ran`);
  if (handled > jobs) context.log(`note: ${handled - jobs} job(s) ran twice`);
}

/** produceSteadily enqueues `rate` jobs per second for `seconds`, each stamped just before its enqueue call. */
async function produceSteadily(context: ScenarioContext, rate: number, seconds: number): Promise<number> {
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const startedAt = performance.now();
  const enqueued: Promise<void>[] = [];
  for (let n = 0; n < total; n += 1) {
    const wait = startedAt + n * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    // Open loop: a slow enqueue must not delay the next one, or the rate would drop.
    enqueued.push(context.adapter.enqueue({ n, sentAt: machineClockMs() }));
  }
  await Promise.all(enqueued);
  return total;
}

function latencyMetrics(latencies: number[], keys: [MetricKey, MetricKey, MetricKey], rate: number): Metrics {
  const sorted = sortedCopy(latencies.slice(Math.round(rate * LATENCY_WARMUP_SECONDS)));
  return { [keys[0]]: percentile(sorted, 50), [keys[1]]: percentile(sorted, 95), [keys[2]]: percentile(sorted, 99) };
}

async function untilTrue(condition: () => boolean, deadline: number, progress: () => string): Promise<void> {
  while (!condition()) {
    checkDeadline(deadline, progress);
    await sleep(2);
  }
}

const everyAdapter = () => true;

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  bulk: {
    title: '1. bulk enqueue',
    appliesTo: everyAdapter,
    repeatsInside: false,
    run: async ({ adapter, sizes, deadline }) => {
      const batches: BenchPayload[][] = [];
      for (let from = 0; from < sizes.bulkJobs; from += sizes.bulkBatch) {
        batches.push(payloadsFrom(from, Math.min(sizes.bulkBatch, sizes.bulkJobs - from)));
      }
      const startedAt = performance.now();
      for (const batch of batches) {
        await within(adapter.enqueueMany(batch), deadline, () => 'bulk enqueue');
      }
      return [{ bulk: perSecond(sizes.bulkJobs, performance.now() - startedAt) }];
    },
  },

  single: {
    title: '2. single enqueue from concurrent callers',
    appliesTo: everyAdapter,
    repeatsInside: false,
    run: async ({ adapter, sizes, deadline }) => {
      let next = 0;
      const caller = async () => {
        while (next < sizes.singleJobs) {
          const n = next++;
          await adapter.enqueue({ n, sentAt: machineClockMs() });
        }
      };
      const startedAt = performance.now();
      const callers = Array.from({ length: sizes.singleCallers }, caller);
      await within(Promise.all(callers), deadline, () => `${next} of ${sizes.singleJobs} enqueue calls made`);
      return [{ single: perSecond(sizes.singleJobs, performance.now() - startedAt) }];
    },
  },

  drain: {
    title: '3. drain with one worker process',
    appliesTo: everyAdapter,
    repeatsInside: false,
    run: async (context) => [{ drain: await drainInProcesses(context, context.sizes.drainJobs, 1) }],
  },

  latency: {
    title: '4. enqueue-to-start latency at a steady rate',
    appliesTo: everyAdapter,
    repeatsInside: false,
    run: async (context) => {
      const { adapter, sizes, deadline, concurrency } = context;
      const rate = sizes.latencyRatePerSecond;
      // a. The worker runs in the producing process.
      const local: number[] = [];
      await adapter.startWorker({
        concurrency,
        handler: (payload) => {
          local.push(machineClockMs() - payload.sentAt);
        },
      });
      const total = await within(
        produceSteadily(context, rate, sizes.latencySeconds),
        deadline,
        () => `${local.length} jobs started`,
      );
      await untilTrue(
        () => local.length >= total,
        deadline,
        () => `${local.length} of ${total} jobs started`,
      );
      await adapter.stopWorker();
      // b. The worker runs in another process, as a web app and its worker usually do.
      const workers = await WorkerProcesses.spawn({
        count: 1,
        adapter: context.adapterName,
        place: context.place,
        concurrency,
        extraExecArgv: context.workerExecArgv,
      });
      try {
        await workers.start();
        await within(produceSteadily(context, rate, sizes.latencySeconds), deadline, () => `${workers.handled} jobs started`);
        await within(workers.untilHandled(total), deadline, () => `${workers.handled} of ${total} jobs started`);
        const remote = await within(workers.stop(), deadline, () => 'stopping the worker process');
        return [
          {
            ...latencyMetrics(local, ['latencyLocalP50', 'latencyLocalP95', 'latencyLocalP99'], rate),
            ...latencyMetrics(remote, ['latencyRemoteP50', 'latencyRemoteP95', 'latencyRemoteP99'], rate),
          },
        ];
      } finally {
        workers.kill();
      }
    },
  },

  history: {
    title: '5. drain time with a small and a large history of completed jobs',
    appliesTo: (adapter) => adapter.keepsHistory,
    repeatsInside: true,
    run: async (context) => {
      const { adapter, sizes, repetitions, log } = context;
      let reported = 0;
      let loadDeadline = Number.POSITIVE_INFINITY;
      const onProgress = (done: number) => {
        if (done - reported >= 100_000) {
          reported = done;
          log(`${adapter.name}: ${done.toLocaleString('en')} finished jobs in history`);
        }
        return performance.now() < loadDeadline;
      };
      const drainMs = async () => (sizes.historyDrainJobs * 1000) / (await drainInProcesses(context, sizes.historyDrainJobs, 1));
      // The server runs with autovacuum off; vacuum where autovacuum would have (untimed).
      const vacuumed = async () => {
        if (adapter.backend === 'postgres') await vacuumAnalyze(context.place.pgUrl);
      };
      const per10k = (ms: number) => (ms * 10_000) / sizes.historyDrainJobs;
      const small: number[] = [];
      for (let rep = 0; rep < repetitions; rep += 1) {
        await adapter.reset();
        await adapter.addHistory(sizes.historySmall, onProgress);
        await vacuumed();
        small.push(per10k(await drainMs()));
      }
      // The large history is loaded once; each repetition adds its drained jobs to it (a few %).
      await adapter.reset();
      reported = 0;
      const loadStartedAt = performance.now();
      loadDeadline = loadStartedAt + context.historyBudgetMs;
      const historyRows = await adapter.addHistory(sizes.historyLarge, onProgress);
      log(
        `${adapter.name}: ${historyRows.toLocaleString('en')} finished jobs loaded in ${((performance.now() - loadStartedAt) / 1000).toFixed(0)} s`,
      );
      const large: number[] = [];
      for (let rep = 0; rep < repetitions; rep += 1) {
        await vacuumed();
        large.push(per10k(await drainMs()));
      }
      return small.map((smallMs, rep) => ({
        historySmall: smallMs,
        historyLarge: large[rep] as number,
        historySlowdown: (large[rep] as number) / smallMs,
        historyRows,
      }));
    },
  },

  drain2: {
    title: '6. drain with two worker processes (PostgreSQL systems)',
    appliesTo: (adapter) => adapter.backend === 'postgres',
    repeatsInside: false,
    run: async (context) => [{ drain2: await drainInProcesses(context, context.sizes.drainJobs, 2) }],
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];
