import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchOptions, ScenarioName, StoreName } from './options.js';
import { type Metric, SCENARIOS, type ScenarioOutcome } from './scenarios.js';
import type { DatabaseVersions } from './stores.js';

/** RunRecord is one scenario on one store: its outcome, or why it has none. */
export interface RunRecord {
  store: StoreName;
  scenario: ScenarioName;
  outcome: ScenarioOutcome | null;
  error: string | null;
}

/** Machine describes where the run happened. */
export interface Machine {
  date: string;
  cpus: string;
  memory: string;
  os: string;
  node: string;
  versions: DatabaseVersions;
  loadBefore: string;
  loadAfter: string;
}

/** describeMachine reads the machine facts RESULTS.md records (except the load after the run). */
export function describeMachine(versions: DatabaseVersions): Machine {
  const cpus = os.cpus();
  return {
    date: `${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`,
    cpus: `${os.availableParallelism()} (nproc) × ${cpus[0]?.model.trim() ?? 'unknown CPU'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    versions,
    loadBefore: loadAverage(),
    loadAfter: '',
  };
}

/** loadAverage formats the 1/5/15 minute load averages. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' / ');
}

function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'jobs/s' || unit === 'rows') return Math.round(value).toLocaleString('en');
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function formatMetric({ value, unit, range }: Metric): string {
  const figure = `${formatNumber(value, unit)} ${unit}`;
  return range ? `${figure} (${formatNumber(range[0], unit)}–${formatNumber(range[1], unit)})` : figure;
}

interface TableRow {
  scenario: string;
  metric: string;
  cells: Record<string, string>;
}

/** Rows of the results table: one per metric name, one column per store; a failed run shows its error. */
function tableRows(records: RunRecord[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const scenario of Object.keys(SCENARIOS) as ScenarioName[]) {
    const ofScenario = records.filter((record) => record.scenario === scenario);
    if (ofScenario.length === 0) continue;
    const names = [...new Set(ofScenario.flatMap((record) => record.outcome?.metrics.map((metric) => metric.name) ?? []))];
    const first = rows.length;
    for (const name of names) {
      const cells: Record<string, string> = {};
      for (const record of ofScenario) {
        const figure = record.outcome?.metrics.find((metric) => metric.name === name);
        cells[record.store] = figure ? formatMetric(figure) : '';
      }
      rows.push({ scenario: '', metric: name, cells });
    }
    for (const record of ofScenario.filter((candidate) => candidate.error !== null)) {
      if (rows.length === first) rows.push({ scenario: '', metric: '', cells: {} });
      (rows[first] as TableRow).cells[record.store] = `failed: ${record.error}`;
    }
    (rows[first] as TableRow).scenario = SCENARIOS[scenario].title;
  }
  return rows;
}

/** printTable writes the results to the console. */
export function printTable(records: RunRecord[], stores: StoreName[]): void {
  const rows = tableRows(records);
  const header = ['scenario', 'metric', ...stores];
  const lines = rows.map((row) => [row.scenario, row.metric, ...stores.map((store) => row.cells[store] ?? '')]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => (line[column] ?? '').length)));
  const format = (line: string[]) => line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  console.log(`\n${format(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}`);
  for (const line of lines) console.log(format(line));
  for (const record of records) {
    for (const note of record.outcome?.notes ?? []) console.log(`  [${record.store} ${record.scenario}] ${note}`);
  }
}

/** printBreakdowns writes where one scenario's measured phases spent their store time. */
export function printBreakdowns(store: StoreName, outcome: ScenarioOutcome): void {
  for (const breakdown of outcome.breakdowns) {
    console.log(
      `    ${store} ${breakdown.phase}: ${(breakdown.elapsedMs / 1000).toFixed(2)} s, event loop busy ${(breakdown.eventLoopUtilization * 100).toFixed(0)}%`,
    );
    for (const [method, stats] of breakdown.calls) {
      console.log(
        `      ${method.padEnd(16)} ${String(stats.calls).padStart(7)} calls  ${(stats.totalMs / 1000).toFixed(2).padStart(7)} s  ` +
          `mean ${(stats.totalMs / stats.calls).toFixed(2).padStart(7)} ms  max ${stats.maxMs.toFixed(1).padStart(7)} ms` +
          (stats.items === 0 ? '' : `  ${(stats.items / stats.calls).toFixed(1)} items/call`),
      );
    }
  }
}

const BEGIN = '<!-- bench:begin (generated by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:end -->';

/** writeResults writes the generated part of RESULTS.md, keeping any text after the generated block. */
export function writeResults(path: string, records: RunRecord[], options: BenchOptions, machine: Machine): void {
  const generated = [BEGIN, renderMarkdown(records, options, machine), END].join('\n');
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const [before, rest] = [previous.indexOf(BEGIN), previous.indexOf(END)];
  const text =
    before >= 0 && rest > before
      ? previous.slice(0, before) + generated + previous.slice(rest + END.length)
      : `# jobyard core benchmark\n\n${generated}\n`;
  writeFileSync(path, text);
}

function renderMarkdown(records: RunRecord[], options: BenchOptions, machine: Machine): string {
  const { settings, sizes } = options;
  const stores = [...new Set(records.map((record) => record.store))];
  const out: string[] = [];
  out.push(
    `Run: ${machine.date}${options.quick ? ' (--quick: reduced sizes, not comparable)' : ''}. ` +
      `Reproduce with \`npm run bench\` (subsets: \`--store sqlite --scenario drain\`, fast iteration: \`--quick\`).`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPUs | ${machine.cpus} |`,
    `| memory | ${machine.memory} |`,
    `| OS | ${machine.os} |`,
    `| Node.js | ${machine.node} |`,
    `| PostgreSQL | ${machine.versions.postgres} (${machine.versions.postgresSettings}), same machine, TCP 127.0.0.1 |`,
    `| SQLite | ${machine.versions.sqlite} (better-sqlite3), file on the local disk, WAL, synchronous=${settings.sqliteSynchronous} |`,
    `| load average 1/5/15 min | before ${machine.loadBefore}; after ${machine.loadAfter} |`,
    '',
    `Settings: one worker, concurrency ${settings.concurrency}, prefetch ${settings.prefetch}, lease ${settings.leaseMs / 1000} s (heartbeat every ${settings.leaseMs / 3000} s), ` +
      `poll interval ${settings.pollIntervalMs} ms, no-op handler returning null, one queue. ` +
      `Each scenario runs on a fresh store (new SQLite file / new PostgreSQL schema, dropped afterwards). ` +
      `Bulk enqueue: ${sizes.bulkJobs.toLocaleString('en')} jobs in calls of ${sizes.bulkBatch.toLocaleString('en')}. ` +
      `Single enqueue: ${sizes.singleJobs.toLocaleString('en')} jobs from ${sizes.singleCallers} callers, each awaiting one enqueue() at a time. ` +
      `Latency: measured from just before enqueue() to the handler's first line (performance.now(), same process). ` +
      (options.repeat > 1
        ? `Each scenario but the history one ran ${options.repeat} times: figures are medians, (lowest–highest) in brackets.`
        : 'Each scenario ran once.'),
    '',
    `| scenario | metric | ${stores.join(' | ')} |`,
    `|---|---|${stores.map(() => '---:').join('|')}|`,
  );
  for (const row of tableRows(records)) {
    out.push(`| ${row.scenario} | ${row.metric} | ${stores.map((store) => row.cells[store] ?? '').join(' | ')} |`);
  }
  const notes = records.flatMap((record) =>
    (record.outcome?.notes ?? []).map((note) => `- ${record.store}, ${record.scenario}: ${note}`),
  );
  if (notes.length > 0) out.push('', ...notes);
  out.push(
    '',
    '### Store time per measured phase',
    '',
    'Time from each Store call to its settled promise, summed (calls overlap on PostgreSQL, so the sum may exceed the phase). ' +
      'Items: jobs returned (claimed, settled, inserted).',
    '',
    'Loop busy: share of the phase the event loop was running JavaScript or a synchronous SQLite call; the rest it waited for I/O and timers.',
    '',
    '| store | phase | phase s | loop busy | method | calls | total s | mean ms | max ms | items/call |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---:|',
  );
  for (const record of records) {
    for (const breakdown of record.outcome?.breakdowns ?? []) {
      for (const [method, stats] of breakdown.calls) {
        out.push(
          `| ${record.store} | ${breakdown.phase} | ${(breakdown.elapsedMs / 1000).toFixed(2)} | ` +
            `${(breakdown.eventLoopUtilization * 100).toFixed(0)}% | ${method} | ${stats.calls} | ` +
            `${(stats.totalMs / 1000).toFixed(2)} | ${(stats.totalMs / stats.calls).toFixed(2)} | ${stats.maxMs.toFixed(1)} | ` +
            `${stats.items === 0 ? '' : (stats.items / stats.calls).toFixed(1)} |`,
        );
      }
    }
  }
  return out.join('\n');
}
