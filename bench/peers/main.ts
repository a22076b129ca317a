/**
 * `npm run bench:peers`: jobyard (PostgreSQL, SQLite) against graphile-worker, pg-boss and
 * BullMQ on the scenarios of issue 9, plus a pgbench reference, all in one run under one
 * Node 22 binary (see run.sh). Prints a table, writes the `## Peers` section of
 * bench/RESULTS.md and bench/peers.svg. `npm run bench:peers -- --help` lists the flags.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { within } from '../measure.js';
import { FULL_SIZES, QUICK_SIZES } from '../options.js';
import { describeMachine, loadAverage } from '../report.js';
import { readDatabaseVersions } from '../stores.js';
import type { AdapterPlace } from './adapter.js';
import { ADAPTER_NAMES, ADAPTERS, type AdapterName } from './adapters/index.js';
import { renderChart } from './chart.js';
import { withPg } from './pg-admin.js';
import { runPgbench } from './pgbench.js';
import { printTable, writeResults } from './report.js';
import type { PeerRun } from './results.js';
import { type MetricKey, type Metrics, SCENARIO_NAMES, SCENARIOS, type ScenarioName, type Sizes } from './scenarios.js';

const CONCURRENCY = 24;

const USAGE = `Usage: npm run bench:peers -- [options]
  --quick                 small workloads, 1 repetition, no RESULTS.md (unless --write)
  --adapters a,b          systems: ${ADAPTER_NAMES.join(', ')} (default: all)
  --scenarios a,b         scenarios: ${SCENARIO_NAMES.join(', ')} (default: all)
  --reps N                repetitions of each figure (default: 3; quick: 1)
  --timeout S             time limit of one run of one scenario on one system, in s (default: 300; quick: 60)
  --history N             completed jobs of the large history (default: 1000000; quick: 20000)
  --history-budget S      time to load the large history, per system, in s; what is loaded by then is used (default: 600)
  --no-pgbench            skip the pgbench reference
  --cpu-prof              write CPU profiles of the worker processes to bench/peers/profiles/
  --pg URL                PostgreSQL (env JOBYARD_BENCH_PG; default postgres://postgres@127.0.0.1:5432/test)
  --redis URL             Redis for BullMQ (default redis://127.0.0.1:6379)
  --rerun                 measure the given --scenarios again (all systems) and merge them into the last full
                          run (last-run.json): RESULTS.md and the chart then show both, with both dates
  --write / --no-write    write RESULTS.md and the chart (default: only for a full run of everything, or --rerun)
  --out FILE              results file (default bench/RESULTS.md); the chart goes to bench/peers.svg`;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean' },
    adapters: { type: 'string' },
    scenarios: { type: 'string' },
    reps: { type: 'string' },
    timeout: { type: 'string' },
    history: { type: 'string' },
    'history-budget': { type: 'string' },
    'no-pgbench': { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
    pg: { type: 'string' },
    redis: { type: 'string' },
    write: { type: 'boolean' },
    'no-write': { type: 'boolean' },
    rerun: { type: 'boolean' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function fail(message: string): never {
  console.error(`bench:peers: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function pickList<Name extends string>(raw: string | undefined, allowed: readonly Name[], what: string): Name[] {
  if (raw === undefined || raw === 'all') return [...allowed];
  const picked = raw.split(',').map((name) => name.trim());
  for (const name of picked) if (!allowed.includes(name as Name)) fail(`unknown ${what} "${name}"`);
  return allowed.filter((name) => picked.includes(name));
}

function positive(raw: string | undefined, fallback: number, what: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value <= 0) fail(`--${what} must be a positive integer`);
  return value;
}

const quick = values.quick ?? false;
const adapters = pickList(values.adapters, ADAPTER_NAMES, 'adapter');
const scenarios = pickList(values.scenarios, SCENARIO_NAMES, 'scenario');
const repetitions = positive(values.reps, quick ? 1 : 3, 'reps');
const sizes: Sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
sizes.historyLarge = positive(values.history, sizes.historyLarge, 'history');
const timeoutMs = positive(values.timeout, quick ? 60 : 300, 'timeout') * 1000;
const historyBudgetMs = positive(values['history-budget'], quick ? 60 : 600, 'history-budget') * 1000;
const pgUrl = values.pg ?? process.env.JOBYARD_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = values.redis ?? 'redis://127.0.0.1:6379';
const everything = !quick && adapters.length === ADAPTER_NAMES.length && scenarios.length === SCENARIO_NAMES.length;
const rerun = values.rerun ?? false;
if (rerun && (quick || adapters.length !== ADAPTER_NAMES.length || values.scenarios === undefined)) {
  fail('--rerun needs --scenarios and every system, at full size');
}
const write = values['no-write'] ? false : (values.write ?? (everything || rerun));
const resultsPath = values.out ?? new URL('../RESULTS.md', import.meta.url).pathname;
const chartPath = new URL('../peers.svg', import.meta.url).pathname;
const profileDir = new URL('./profiles/', import.meta.url).pathname;
const workerExecArgv = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
if (values['cpu-prof']) mkdirSync(profileDir, { recursive: true });

const log = (message: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${message}`);

async function describeRedis(): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    const [, save] = (await redis.config('GET', 'save')) as string[];
    return `${version} at ${redisUrl}, appendonly=${appendonly}, save="${save}"`;
  } finally {
    redis.disconnect();
  }
}

const machine = describeMachine(await readDatabaseVersions(pgUrl));
const run: PeerRun = {
  quick,
  repetitions,
  concurrency: CONCURRENCY,
  sizes,
  scenarios,
  systems: [],
  machine,
  redis: adapters.includes('bullmq') ? await describeRedis() : 'not used',
  samples: [],
  failures: [],
  pgbench: [],
};
for (const name of adapters) {
  const adapter = ADAPTERS[name]({ pgUrl, redisUrl, runId: 'describe' });
  run.systems.push({ name, backend: adapter.backend, version: adapter.version, settings: adapter.settings });
}

log(
  `bench:peers${quick ? ' (quick)' : ''}: ${adapters.join(', ')}; scenarios ${scenarios.join(', ')}; ${repetitions} repetition(s)`,
);
log(
  `${machine.cpus}, Node ${machine.node}, PostgreSQL ${machine.versions.postgres}, Redis ${run.redis}, load ${machine.loadBefore}`,
);

/**
 * Other work on this machine (its fault tests) restarts PostgreSQL now and then. A run that
 * hits such a restart measured nothing: wait for the server and run it again, once.
 */
const RESTART_ERROR = /shutting down|terminating connection|ECONNREFUSED|EPIPE|ECONNRESET|Connection terminated|starting up/i;

async function waitForPostgres(): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await withPg(pgUrl, (client) => client.query('SELECT 1'));
      return;
    } catch (error) {
      if (attempt >= 120) throw error;
      await sleep(1000);
    }
  }
}

async function retryingOnRestart<T>(what: string, work: () => Promise<T>): Promise<T> {
  await waitForPostgres();
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!RESTART_ERROR.test(message)) throw error;
    log(`  ${what}: PostgreSQL restarted under the run (${message.split('\n')[0]}); running it again`);
    await sleep(3000);
    await waitForPostgres();
    return work();
  }
}

if (!values['no-pgbench']) {
  for (let rep = 0; rep < repetitions; rep += 1) {
    const figures = await retryingOnRestart('pgbench', () => runPgbench(pgUrl, quick ? 2 : 5));
    run.pgbench.push(figures);
    log(`pgbench: ${JSON.stringify(figures)}`);
  }
}

/** runOnce runs one scenario on one system (again after a PostgreSQL restart) and records its figures or its failure. */
async function runOnce(scenarioName: ScenarioName, name: AdapterName, label: string): Promise<void> {
  const scenario = SCENARIOS[scenarioName];
  if (!scenario.appliesTo(ADAPTERS[name]({ pgUrl, redisUrl, runId: 'check' }))) return;
  log(`${name}: ${scenario.title}${label}`);
  try {
    const results = await retryingOnRestart(`${name} ${scenarioName}`, () => measure(scenarioName, name));
    for (const metrics of results) {
      for (const [metric, value] of Object.entries(metrics))
        run.samples.push({ adapter: name, metric: metric as MetricKey, value });
      log(
        `  ${Object.entries(metrics)
          .map(([metric, value]) => `${metric} ${value.toFixed(2)}`)
          .join(', ')}`,
      );
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    run.failures.push({ scenario: scenarioName, adapter: name, message });
    log(`  failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
  }
}

/** measure sets one system up on a fresh place, runs one scenario within its time limit, and removes everything. */
async function measure(scenarioName: ScenarioName, name: AdapterName): Promise<Metrics[]> {
  const place: AdapterPlace = { pgUrl, redisUrl, runId: randomBytes(4).toString('hex') };
  const adapter = ADAPTERS[name](place);
  const deadline = performance.now() + timeoutMs + (scenarioName === 'history' ? historyBudgetMs : 0);
  try {
    await adapter.setup();
    return await SCENARIOS[scenarioName].run({
      adapterName: name,
      adapter,
      place,
      sizes,
      concurrency: CONCURRENCY,
      deadline,
      repetitions,
      historyBudgetMs,
      workerExecArgv,
      log: (message) => log(`  ${message}`),
    });
  } finally {
    try {
      await within(adapter.close({ drop: true }), performance.now() + 60_000, () => 'closing');
    } catch (error) {
      log(`  could not clean up ${name} (${place.runId}): ${String(error)}`);
    }
  }
}

// Systems alternate inside each repetition, so a slow phase of the machine hits them all alike.
for (const scenarioName of scenarios) {
  if (SCENARIOS[scenarioName].repeatsInside) {
    for (const name of adapters) await runOnce(scenarioName, name, '');
  } else {
    for (let rep = 0; rep < repetitions; rep += 1) {
      for (const name of adapters) await runOnce(scenarioName, name, repetitions > 1 ? ` (${rep + 1}/${repetitions})` : '');
    }
  }
}

machine.loadAfter = loadAverage();
const lastRunPath = new URL('./last-run.json', import.meta.url);
const reported = rerun ? mergeIntoLastRun(JSON.parse(readFileSync(lastRunPath, 'utf8')) as PeerRun) : run;
printTable(reported);
if (write) {
  writeResults(resultsPath, reported, relative(dirname(resultsPath), chartPath));
  writeFileSync(chartPath, renderChart(reported));
  writeFileSync(lastRunPath, `${JSON.stringify(reported, null, 2)}\n`);
  log(`wrote ${resultsPath} and ${chartPath}`);
}
/** mergeIntoLastRun replaces the figures and failures of the re-measured scenarios in `last`. */
function mergeIntoLastRun(last: PeerRun): PeerRun {
  const remeasured = new Set<string>(run.samples.map((sample) => sample.metric));
  const failed = new Set<string>(scenarios);
  return {
    ...last,
    samples: [...last.samples.filter((sample) => !remeasured.has(sample.metric)), ...run.samples],
    failures: [...last.failures.filter((failure) => !failed.has(failure.scenario)), ...run.failures],
    reruns: [
      ...(last.reruns ?? []).filter((earlier) => !earlier.scenarios.every((name) => failed.has(name))),
      { scenarios, date: machine.date, loadBefore: machine.loadBefore, loadAfter: machine.loadAfter },
    ],
  };
}

// Pools of some systems keep the event loop alive a little after close.
process.exit(0);
