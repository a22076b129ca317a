/**
 * The chart of a peer run as a self-contained SVG (no network, no library): one panel per
 * headline metric, one bar per system, medians over the repetitions. Throughput bars are
 * linear; latency and slowdown bars are on a log scale, since they span orders of magnitude.
 */

import { formatNumber, medianOf, type PeerRun } from './results.js';
import { METRICS, type MetricKey } from './scenarios.js';

const PANELS: { metric: MetricKey; title: string; scale: 'linear' | 'log' }[] = [
  { metric: 'bulk', title: '1. bulk enqueue (jobs/s)', scale: 'linear' },
  { metric: 'single', title: '2. single enqueue, 16 callers (jobs/s)', scale: 'linear' },
  { metric: 'drain', title: '3. drain, 1 process (jobs/s)', scale: 'linear' },
  { metric: 'drain2', title: '6. drain, 2 processes (jobs/s)', scale: 'linear' },
  { metric: 'latencyLocalP50', title: '4a. p50 latency, same process (ms, log)', scale: 'log' },
  { metric: 'latencyRemoteP50', title: '4b. p50 latency, other process (ms, log)', scale: 'log' },
  { metric: 'historySlowdown', title: '5. drain time, large / small history (×, log)', scale: 'log' },
];

const COLORS: Record<string, string> = {
  'jobyard-pg': '#1f6feb',
  'jobyard-sqlite': '#54aeff',
  'graphile-worker': '#bf8700',
  'pg-boss': '#8250df',
  bullmq: '#cf222e',
};

const PANEL_WIDTH = 470;
const LABEL_WIDTH = 120;
const BAR_HEIGHT = 18;
const BAR_GAP = 6;
const PANEL_PADDING = 36;

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** renderChart draws the run's medians side by side. */
export function renderChart(run: PeerRun): string {
  const systems = run.systems.map((system) => system.name);
  const panelHeight = PANEL_PADDING + systems.length * (BAR_HEIGHT + BAR_GAP) + 12;
  const panels = PANELS.filter(({ metric }) => systems.some((name) => Number.isFinite(medianOf(run, metric, name))));
  const columns = 2;
  const width = columns * PANEL_WIDTH + 20;
  const height = 70 + Math.ceil(panels.length / columns) * panelHeight;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">jobyard and its peers: medians of ${run.repetitions} run(s)${run.quick ? ' (--quick sizes, not comparable)' : ''}</text>`,
    `<text x="10" y="44" fill="#57606a">${escapeXml(`${run.machine.date}, ${run.machine.cpus}, Node ${run.machine.node}. Bars: medians; log panels start one decade below their smallest value.`)}</text>`,
  ];
  panels.forEach(({ metric, title, scale }, index) => {
    const info = METRICS[metric];
    const x = 10 + (index % columns) * PANEL_WIDTH;
    const y = 60 + Math.floor(index / columns) * panelHeight;
    const values = systems.map((name) => medianOf(run, metric, name));
    const finite = values.filter(Number.isFinite);
    const max = Math.max(...finite);
    const min = Math.min(...finite);
    const barSpace = PANEL_WIDTH - LABEL_WIDTH - 90;
    // Log bars start a decade below the smallest value so the smallest still shows.
    const logFloor = Math.log10(Math.max(min, 1e-3)) - 1;
    const length = (value: number) =>
      scale === 'linear'
        ? (value / max) * barSpace
        : ((Math.log10(value) - logFloor) / (Math.log10(max) - logFloor || 1)) * barSpace;
    out.push(`<text x="${x}" y="${y + 18}" font-weight="bold">${escapeXml(`${title}, ${info.better} is better`)}</text>`);
    systems.forEach((name, row) => {
      const value = values[row] as number;
      const barY = y + PANEL_PADDING - 8 + row * (BAR_HEIGHT + BAR_GAP);
      out.push(`<text x="${x}" y="${barY + 13}">${escapeXml(name)}</text>`);
      if (!Number.isFinite(value)) {
        out.push(`<text x="${x + LABEL_WIDTH}" y="${barY + 13}" fill="#8c959f">n/a</text>`);
        return;
      }
      const barLength = Math.max(1, length(value));
      out.push(
        `<rect x="${x + LABEL_WIDTH}" y="${barY}" width="${barLength.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[name] ?? '#6e7781'}"/>`,
        `<text x="${(x + LABEL_WIDTH + barLength + 5).toFixed(1)}" y="${barY + 13}">${escapeXml(formatNumber(value, info.unit))}</text>`,
      );
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
