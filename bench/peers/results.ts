/**
 * What a peer run produced, and the figures derived from it: per metric and system the
 * median and minimum over repetitions, the issue's target ratios, and each PostgreSQL
 * system's drain rate as a fraction of the pgbench reference.
 */
import type { Machine } from '../report.js';
import type { PeerAdapter } from './adapter.js';
import type { AdapterName } from './adapters/index.js';
import type { PgbenchFigures } from './pgbench.js';
import { METRICS, type MetricKey, type ScenarioName, type Sizes } from './scenarios.js';

export interface Sample {
  adapter: AdapterName;
  metric: MetricKey;
  value: number;
}

export interface Failure {
  scenario: ScenarioName;
  adapter: AdapterName;
  message: string;
}

export interface SystemInfo {
  name: AdapterName;
  backend: PeerAdapter['backend'];
  version: string;
  settings: string;
}

/** PeerRun is everything one `npm run bench:peers` measured and where. */
export interface PeerRun {
  quick: boolean;
  repetitions: number;
  concurrency: number;
  sizes: Sizes;
  scenarios: ScenarioName[];
  systems: SystemInfo[];
  machine: Machine;
  redis: string;
  samples: Sample[];
  failures: Failure[];
  pgbench: PgbenchFigures[];
  /** Scenarios measured again later (`--rerun`) and merged in, each with the date of its run. */
  reruns?: { scenarios: ScenarioName[]; date: string; loadBefore: string; loadAfter: string }[];
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  count: number;
}

/** summarize returns median, min and max of a list, or null when it is empty. */
export function summarize(values: number[]): Summary | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, count: sorted.length };
}

/** summaryOf summarizes one metric of one system. */
export function summaryOf(run: PeerRun, metric: MetricKey, adapter: AdapterName): Summary | null {
  return summarize(
    run.samples.filter((sample) => sample.metric === metric && sample.adapter === adapter).map((sample) => sample.value),
  );
}

/** medianOf is the median of one metric of one system, or NaN. */
export function medianOf(run: PeerRun, metric: MetricKey, adapter: AdapterName): number {
  return summaryOf(run, metric, adapter)?.median ?? Number.NaN;
}

/** formatNumber prints a figure the way the tables do. */
export function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'jobs/s' || unit === 'tps' || unit === 'rows') return Math.round(value).toLocaleString('en');
  if (unit === '×') return value.toFixed(2);
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString('en');
}

/** MetricRow is one line of the results table: per system "median (min)" over the repetitions. */
export interface MetricRow {
  metric: MetricKey;
  label: string;
  unit: string;
  cells: Record<string, string>;
}

export function metricRows(run: PeerRun): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const [metric, info] of Object.entries(METRICS) as [MetricKey, (typeof METRICS)[MetricKey]][]) {
    const cells: Record<string, string> = {};
    let any = false;
    for (const system of run.systems) {
      const summary = summaryOf(run, metric, system.name);
      if (summary === null) continue;
      any = true;
      cells[system.name] =
        summary.count === 1
          ? formatNumber(summary.median, info.unit)
          : `${formatNumber(summary.median, info.unit)} (min ${formatNumber(summary.min, info.unit)})`;
    }
    if (any) rows.push({ metric, label: info.label, unit: info.unit, cells });
  }
  return rows;
}

/** TargetCheck is one target of the issue, as measured in this run. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

const PG_PEERS: AdapterName[] = ['graphile-worker', 'pg-boss'];

function fastestPeer(run: PeerRun, metric: MetricKey): { name: string; value: number } {
  const better = METRICS[metric].better;
  let best = { name: 'none', value: Number.NaN };
  for (const peer of PG_PEERS) {
    const value = medianOf(run, metric, peer);
    if (!Number.isFinite(value)) continue;
    if (!Number.isFinite(best.value) || (better === 'higher' ? value > best.value : value < best.value))
      best = { name: peer, value };
  }
  return best;
}

function ratioCheck(run: PeerRun, system: AdapterName, metric: MetricKey, factor: number, label: string): TargetCheck {
  const ours = medianOf(run, metric, system);
  const peer = fastestPeer(run, metric);
  const ratio = ours / peer.value;
  const unit = METRICS[metric].unit;
  return {
    target: label,
    measured: `${formatNumber(ours, unit)} vs ${peer.name} ${formatNumber(peer.value, unit)} ${unit}: ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'}×`,
    met: Number.isFinite(ratio) ? ratio >= factor : null,
  };
}

function latencyCheck(run: PeerRun, system: AdapterName, metric: MetricKey, label: string, againstPeers: boolean): TargetCheck {
  const ours = medianOf(run, metric, system);
  const peer = fastestPeer(run, metric);
  const underPeers = !againstPeers || !Number.isFinite(peer.value) || ours < peer.value;
  return {
    target: label,
    measured: `${formatNumber(ours, 'ms')} ms${againstPeers ? `; best PostgreSQL peer ${peer.name} ${formatNumber(peer.value, 'ms')} ms` : ''}`,
    met: Number.isFinite(ours) ? ours <= 2 && underPeers : null,
  };
}

function historyCheck(run: PeerRun, system: AdapterName): TargetCheck {
  const slowdown = medianOf(run, 'historySlowdown', system);
  return {
    target: `${system}: drain with ${run.sizes.historyLarge.toLocaleString('en')} finished rows within 10% of ${run.sizes.historySmall.toLocaleString('en')}`,
    measured: `${formatNumber(slowdown, '×')}×`,
    met: Number.isFinite(slowdown) ? slowdown <= 1.1 : null,
  };
}

/** targetChecks evaluates the issue's targets on the medians of this run. */
export function targetChecks(run: PeerRun): TargetCheck[] {
  return [
    ratioCheck(run, 'jobyard-pg', 'drain', 1.5, 'jobyard-pg drain ≥ 1.5× the fastest PostgreSQL peer'),
    ratioCheck(run, 'jobyard-pg', 'bulk', 1, 'jobyard-pg bulk enqueue ≥ the fastest PostgreSQL peer'),
    ratioCheck(run, 'jobyard-pg', 'single', 3, 'jobyard-pg single enqueue (16 callers) ≥ 3× the fastest PostgreSQL peer'),
    latencyCheck(
      run,
      'jobyard-pg',
      'latencyLocalP50',
      'jobyard-pg p50 ≤ 2 ms and below every PostgreSQL peer (4a, same process)',
      true,
    ),
    latencyCheck(
      run,
      'jobyard-pg',
      'latencyRemoteP50',
      'jobyard-pg p50 ≤ 2 ms and below every PostgreSQL peer (4b, other process)',
      true,
    ),
    ratioCheck(run, 'jobyard-sqlite', 'drain', 2, 'jobyard-sqlite drain ≥ 2× the fastest PostgreSQL peer'),
    latencyCheck(run, 'jobyard-sqlite', 'latencyLocalP50', 'jobyard-sqlite p50 ≤ 2 ms (4a, same process)', false),
    historyCheck(run, 'jobyard-pg'),
    historyCheck(run, 'jobyard-sqlite'),
  ];
}

/** pgbenchSummary gives the median of each reference figure. */
export function pgbenchSummary(run: PeerRun): Record<keyof PgbenchFigures, Summary | null> {
  const of = (key: keyof PgbenchFigures) => summarize(run.pgbench.map((figures) => figures[key]));
  return {
    select1OneClient: of('select1OneClient'),
    select1SixteenClients: of('select1SixteenClients'),
    insertUpdateSixteenClients: of('insertUpdateSixteenClients'),
  };
}

/** drainFractions is each PostgreSQL system's drain rate over the pgbench INSERT+UPDATE tps (16 clients). */
export function drainFractions(run: PeerRun): { name: string; drain: number; drain2: number }[] {
  const reference = pgbenchSummary(run).insertUpdateSixteenClients?.median ?? Number.NaN;
  return run.systems
    .filter((system) => system.backend === 'postgres')
    .map((system) => ({
      name: system.name,
      drain: medianOf(run, 'drain', system.name) / reference,
      drain2: medianOf(run, 'drain2', system.name) / reference,
    }));
}
