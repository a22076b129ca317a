/**
 * `npm run bench`: measures jobyard's engine on SQLite and PostgreSQL through the public API
 * (enqueue, enqueueMany, start, events, queueStats), prints a table and writes
 * bench/RESULTS.md. Scenarios run one after another, never two at once, each on a fresh
 * store and within a time limit. `npm run bench -- --help` lists the flags.
 */
import { pino } from 'pino';
import { Jobyard } from '../src/index.js';
import { sortedCopy } from './measure.js';
import { parseBenchOptions, type ScenarioName, type StoreName } from './options.js';
import { describeMachine, loadAverage, printBreakdowns, printTable, type RunRecord, writeResults } from './report.js';
import { SCENARIOS, type ScenarioContext, type ScenarioOutcome, warmUp } from './scenarios.js';
import { openIsolatedStore, readDatabaseVersions } from './stores.js';
import { TimedStore } from './timed-store.js';

const options = parseBenchOptions(process.argv.slice(2));
const machine = describeMachine(await readDatabaseVersions(options.pgUrl));
const log = (message: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${message}`);
// Warnings only: a benchmark that logs per job measures the logger.
const logger = pino({ name: 'jobyard-bench', level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' });

log(
  `jobyard bench${options.quick ? ' (quick)' : ''}: stores ${options.stores.join(', ')}; scenarios ${options.scenarios.join(', ')}`,
);
log(
  `${machine.cpus}, ${machine.memory}, Node ${machine.node}, PostgreSQL ${machine.versions.postgres}, SQLite ${machine.versions.sqlite}, load ${machine.loadBefore}`,
);

/** scenarioContext gives a scenario its time limit and fresh clients, collecting their background errors. */
function scenarioContext(store: StoreName, serviceErrors: unknown[]): ScenarioContext {
  return {
    storeName: store,
    options,
    deadline: performance.now() + options.settings.scenarioTimeoutMs,
    log: (message) => log(`${store}: ${message}`),
    withClient: async (work) => {
      const isolated = await openIsolatedStore(store, options);
      const timed = new TimedStore(isolated.store);
      const client = new Jobyard({ store: timed.store, logger, publishEvents: options.publishEvents });
      client.events.on('error', ({ error }) => serviceErrors.push(error));
      try {
        return await work(client, timed);
      } finally {
        await client.close({ graceMs: 0 });
        await isolated.cleanup();
      }
    },
  };
}

/** runScenario runs one scenario once on one store. */
async function runScenario(store: StoreName, scenario: ScenarioName): Promise<ScenarioOutcome> {
  const serviceErrors: unknown[] = [];
  const outcome = await SCENARIOS[scenario].run(scenarioContext(store, serviceErrors));
  if (serviceErrors.length > 0) {
    const first = serviceErrors[0];
    outcome.notes.push(
      `${serviceErrors.length} background error(s), first: ${first instanceof Error ? first.message : String(first)}`,
    );
  }
  return outcome;
}

/** medianOfRuns reports each figure as the median of the runs (with its range) and the breakdown of the median run. */
function medianOfRuns(runs: ScenarioOutcome[]): ScenarioOutcome {
  const [first] = runs;
  if (!first || runs.length === 1) return first as ScenarioOutcome;
  const middle = Math.floor((runs.length - 1) / 2);
  const metrics = first.metrics.map((metric) => {
    const values = sortedCopy(
      runs.map((run) => run.metrics.find((candidate) => candidate.name === metric.name)?.value ?? Number.NaN),
    );
    return { ...metric, value: values[middle] as number, range: [values[0], values.at(-1)] as [number, number] };
  });
  const headline = first.metrics[0]?.name;
  const byHeadline = [...runs].sort(
    (a, b) => (a.metrics.find((m) => m.name === headline)?.value ?? 0) - (b.metrics.find((m) => m.name === headline)?.value ?? 0),
  );
  return {
    metrics,
    notes: [...new Set(runs.flatMap((run) => run.notes))],
    breakdowns: (byHeadline[middle] as ScenarioOutcome).breakdowns,
  };
}

const records: RunRecord[] = [];
for (const store of options.stores) {
  log(`${store}: warm-up`);
  try {
    await warmUp(scenarioContext(store, []));
  } catch (error) {
    // A store that cannot even warm up (database down, store missing) would fail every scenario.
    const message = `warm-up failed: ${error instanceof Error ? error.message : String(error)}`;
    log(`${store}: ${message}`);
    for (const scenario of options.scenarios) records.push({ store, scenario, outcome: null, error: message });
    continue;
  }
  for (const scenario of options.scenarios) {
    // The history scenario takes minutes to set up and measures a trend, not a peak: one run.
    const runs = scenario === 'history' ? 1 : options.repeat;
    const outcomes: ScenarioOutcome[] = [];
    try {
      for (let run = 1; run <= runs; run++) {
        log(`${store}: ${SCENARIOS[scenario].title}${runs > 1 ? ` (run ${run} of ${runs})` : ''}`);
        const outcome = await runScenario(store, scenario);
        for (const metric of outcome.metrics) log(`${store}:   ${metric.name}: ${metric.value.toFixed(2)} ${metric.unit}`);
        printBreakdowns(store, outcome);
        outcomes.push(outcome);
      }
      records.push({ store, scenario, outcome: medianOfRuns(outcomes), error: null });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      records.push({ store, scenario, outcome: null, error: message });
      log(`${store}: ${scenario} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
    }
  }
}

machine.loadAfter = loadAverage();
printTable(records, options.stores);
if (options.resultsPath !== null) {
  writeResults(options.resultsPath, records, options, machine);
  log(`wrote ${options.resultsPath}`);
}
