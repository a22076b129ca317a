/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per
 * source file, and inclusive time of the functions whose name matches `--focus`.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/core.ts --store sqlite --scenario drain
 *   npx tsx bench/cpu-profile.ts /tmp/prof/CPU.*.cpuprofile [--top 30] [--focus claimJobs,settleJobs]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string' }, focus: { type: 'string' } },
});
const top = Number(values.top ?? 30);
const focus = (values.focus ?? '').split(',').filter(Boolean);

for (const path of positionals) {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const selfMicros = new Map<number, number>();
  for (const [index, sample] of profile.samples.entries()) {
    selfMicros.set(sample, (selfMicros.get(sample) ?? 0) + (profile.timeDeltas[index] ?? 0));
  }
  const totalMicros = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0);

  const shortUrl = (url: string) => url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, 'node_modules/');
  const label = (node: ProfileNode) =>
    `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;

  const selfByFunction = new Map<string, number>();
  const selfByFile = new Map<string, number>();
  const inclusiveByFocus = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id) as ProfileNode;
    selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + micros);
    const file = shortUrl(node.callFrame.url) || `(${node.callFrame.functionName})`;
    selfByFile.set(file, (selfByFile.get(file) ?? 0) + micros);
    // Inclusive time: charge each focused function once per sample, however deep the recursion.
    const charged = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const name = (byId.get(current) as ProfileNode).callFrame.functionName;
      if (focus.includes(name) && !charged.has(name)) {
        charged.add(name);
        inclusiveByFocus.set(name, (inclusiveByFocus.get(name) ?? 0) + micros);
      }
    }
  }

  const print = (title: string, entries: Map<string, number>, limit: number) => {
    console.log(`\n${title}`);
    for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      console.log(
        `${((micros / totalMicros) * 100).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`,
      );
    }
  };
  console.log(`${path}: ${(totalMicros / 1e6).toFixed(1)} s sampled`);
  print('self time by function', selfByFunction, top);
  print('self time by file', selfByFile, Math.min(top, 20));
  if (focus.length > 0) print('inclusive time of focused functions', inclusiveByFocus, focus.length);
}
