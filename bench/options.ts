import { parseArgs } from 'node:util';

/** StoreName names a store the benchmark can run against. */
export type StoreName = 'sqlite' | 'postgres';
/** ScenarioName names one benchmark scenario. */
export type ScenarioName = 'bulk' | 'single' | 'drain' | 'latency' | 'history';

export const STORE_NAMES: readonly StoreName[] = ['sqlite', 'postgres'];
export const SCENARIO_NAMES: readonly ScenarioName[] = ['bulk', 'single', 'drain', 'latency', 'history'];

/** Sizes are the workload of each scenario; `--quick` shrinks them for fast iteration. */
export interface Sizes {
  bulkJobs: number;
  /** Jobs per enqueueMany call in the bulk scenario. */
  bulkBatch: number;
  singleJobs: number;
  singleCallers: number;
  drainJobs: number;
  latencyRatePerSecond: number;
  latencySeconds: number;
  /** Finished rows already in the table: the small and the large history. */
  historySmall: number;
  historyLarge: number;
  /** Jobs drained on top of each history. */
  historyDrainJobs: number;
  /** Idle pause before the second drain over the large history, in seconds. */
  historyPauseSeconds: number;
}

/** BenchSettings are the worker and store settings every scenario shares. */
export interface BenchSettings {
  concurrency: number;
  /** Jobs the worker claims ahead of free slots (WorkerOptions.prefetch). */
  prefetch: number;
  leaseMs: number;
  pollIntervalMs: number;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  /** Time limit of each scenario (setup of the large history excluded), in ms. */
  scenarioTimeoutMs: number;
  /** Time allowed to load the large history on each store, in ms. */
  historySetupBudgetMs: Record<StoreName, number>;
}

export interface BenchOptions {
  stores: StoreName[];
  scenarios: ScenarioName[];
  quick: boolean;
  /** Runs of each scenario but the history one; the report shows the median of each figure. */
  repeat: number;
  sizes: Sizes;
  settings: BenchSettings;
  pgUrl: string;
  /** Clients publish their job events for other processes (JobyardOptions.publishEvents). */
  publishEvents: boolean;
  /** Where the results go, or null to skip writing them. */
  resultsPath: string | null;
}

/** FULL_SIZES are the workloads the issue names; the peer harness runs the same. */
export const FULL_SIZES: Sizes = {
  bulkJobs: 50_000,
  bulkBatch: 50_000,
  singleJobs: 10_000,
  singleCallers: 16,
  drainJobs: 50_000,
  latencyRatePerSecond: 200,
  latencySeconds: 10,
  historySmall: 10_000,
  historyLarge: 1_000_000,
  historyDrainJobs: 10_000,
  // PostgreSQL's autovacuum wakes up once a minute (autovacuum_naptime).
  historyPauseSeconds: 90,
};

export const QUICK_SIZES: Sizes = {
  bulkJobs: 5_000,
  bulkBatch: 5_000,
  singleJobs: 1_000,
  singleCallers: 16,
  drainJobs: 5_000,
  latencyRatePerSecond: 200,
  latencySeconds: 2,
  historySmall: 1_000,
  historyLarge: 20_000,
  historyDrainJobs: 2_000,
  historyPauseSeconds: 5,
};

const USAGE = `Usage: npm run bench -- [options]
  --store sqlite,postgres     stores to run (env BENCH_STORE)                    default: both
  --scenario bulk,single,drain,latency,history  (env BENCH_SCENARIO)            default: all
  --quick                     small workloads for fast iteration (env BENCH_QUICK=1)
  --repeat N                  runs of each scenario except history; figures are medians  default: 3 (quick: 1)
  --history N                 finished rows of the large history                default: 1000000
  --bulk-batch N              jobs per enqueueMany call in the bulk scenario    default: all in one call
  --prefetch N                worker prefetch (jobs claimed ahead of free slots) default: 0 (the worker's default)
  --sqlite-sync FULL|NORMAL   SQLite synchronous pragma                         default: FULL (the store's default)
  --timeout S                 time limit of each scenario, in seconds          default: 600 (quick: 120)
  --publish-events            clients publish their job events (publishEvents)  default: off (the client's default)
  --pg URL                    PostgreSQL URL (env JOBYARD_BENCH_PG, JOBYARD_TEST_PG)
  --write / --no-write        write bench/RESULTS.md (default: only for a full run of everything)
  --out FILE                  write the results to FILE instead`;

/** parseBenchOptions reads flags (falling back to BENCH_* environment variables). */
export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      scenario: { type: 'string' },
      quick: { type: 'boolean' },
      repeat: { type: 'string' },
      history: { type: 'string' },
      'bulk-batch': { type: 'string' },
      'sqlite-sync': { type: 'string' },
      prefetch: { type: 'string' },
      timeout: { type: 'string' },
      pg: { type: 'string' },
      'publish-events': { type: 'boolean' },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const stores = pickList(values.store ?? process.env.BENCH_STORE, STORE_NAMES, 'store');
  const scenarios = pickList(values.scenario ?? process.env.BENCH_SCENARIO, SCENARIO_NAMES, 'scenario');
  const quick = values.quick ?? process.env.BENCH_QUICK === '1';
  const sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
  if (values.history !== undefined) sizes.historyLarge = positiveInteger(values.history, 'history');
  sizes.bulkBatch = values['bulk-batch'] === undefined ? sizes.bulkJobs : positiveInteger(values['bulk-batch'], 'bulk-batch');
  const sqliteSynchronous = (values['sqlite-sync'] ?? 'FULL').toUpperCase();
  if (sqliteSynchronous !== 'FULL' && sqliteSynchronous !== 'NORMAL') fail('--sqlite-sync must be FULL or NORMAL');
  const timeoutSeconds = values.timeout === undefined ? (quick ? 120 : 600) : positiveInteger(values.timeout, 'timeout');
  const everything = !quick && stores.length === STORE_NAMES.length && scenarios.length === SCENARIO_NAMES.length;
  const write = values['no-write'] ? false : (values.write ?? everything) || values.out !== undefined;
  return {
    stores,
    scenarios,
    quick,
    repeat: values.repeat === undefined ? (quick ? 1 : 3) : positiveInteger(values.repeat, 'repeat'),
    sizes,
    settings: {
      concurrency: 24,
      prefetch: values.prefetch === undefined ? 0 : nonNegativeInteger(values.prefetch, 'prefetch'),
      leaseMs: 30_000,
      pollIntervalMs: 1_000,
      sqliteSynchronous,
      scenarioTimeoutMs: timeoutSeconds * 1000,
      // SQLite loads a 1M history in about four minutes on a quiet machine; a busy one stops
      // at what five minutes give (reported). PostgreSQL gets time to reach the full size.
      historySetupBudgetMs: quick ? { sqlite: 60_000, postgres: 60_000 } : { sqlite: 300_000, postgres: 1_200_000 },
    },
    pgUrl: values.pg ?? process.env.JOBYARD_BENCH_PG ?? process.env.JOBYARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
    publishEvents: values['publish-events'] ?? false,
    resultsPath: write ? (values.out ?? new URL('./RESULTS.md', import.meta.url).pathname) : null,
  };
}

function pickList<Name extends string>(raw: string | undefined, allowed: readonly Name[], what: string): Name[] {
  if (raw === undefined || raw === '' || raw === 'all') return [...allowed];
  const picked = raw.split(',').map((name) => name.trim());
  for (const name of picked) {
    if (!allowed.includes(name as Name)) fail(`unknown ${what} "${name}" (expected ${allowed.join(', ')})`);
  }
  // Keep the canonical order whatever order the flags gave.
  return allowed.filter((name) => picked.includes(name));
}

function positiveInteger(raw: string, what: string): number {
  const value = nonNegativeInteger(raw, what);
  if (value === 0) fail(`--${what} must be a positive integer`);
  return value;
}

function nonNegativeInteger(raw: string, what: string): number {
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 0) fail(`--${what} must be a whole number, 0 or more`);
  return value;
}

function fail(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}
