import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { StoreDescription } from '../../../src/config/index.js';
import type { Store } from '../../../src/store/index.js';

const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const SRC_INDEX = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
// Resolved here: the CLI runs in a temp folder, where `--import tsx` would not find the package.
const TSX_LOADER = import.meta.resolve('tsx');
const ZOD = import.meta.resolve('zod');

/** CliDatabase is one fresh database: a store for the test's own checks and the description the CLI's config names. */
export interface CliDatabase {
  store: Store;
  description: StoreDescription;
  cleanup: () => Promise<void>;
}

export type MakeCliDatabase = () => Promise<CliDatabase>;

/** CliRun is how one `jobyard` command ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for `--json` commands). */
  json(): any;
}

/** The config every CLI test runs with: two tasks (one with a schema), in a temp folder. */
function configSource(description: StoreDescription): string {
  return `import { z } from ${JSON.stringify(ZOD)};
import { defineConfig, defineTask } from ${JSON.stringify(SRC_INDEX)};

const greet = defineTask('greet', {
  schema: z.object({ name: z.string() }),
  handler: async ({ name }) => \`hello \${name}\`,
});
const slow = defineTask('slow', { queue: 'slow', handler: async () => new Promise((resolve) => setTimeout(resolve, 60_000)) });

export default defineConfig({
  store: ${JSON.stringify(description)},
  tasks: [greet, slow],
  schedules: { 'greet-hourly': { task: greet, payload: { name: 'cron' }, trigger: { kind: 'every', everyMs: 3_600_000 } } },
  worker: { pollIntervalMs: 50 },
  graceMs: 1000,
});
`;
}

/** CliHarness runs `jobyard` commands as child processes in a folder holding a config on a fresh database. */
export interface CliHarness {
  database(): CliDatabase;
  folder(): string;
  /** run runs one command to its end. */
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** start starts a long-running command (serve, worker) and returns the child. */
  start(args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof spawn>;
}

export function useCli(makeDatabase: MakeCliDatabase): CliHarness {
  let current: { database: CliDatabase; folder: string } | undefined;
  // Long-running commands a test started; a failed test leaves none running.
  const children = new Set<ReturnType<typeof spawn>>();
  beforeEach(async () => {
    const database = await makeDatabase();
    const folder = join(tmpdir(), `jobyard-cli-${randomUUID()}`);
    await mkdir(folder);
    await writeFile(join(folder, 'jobyard.config.ts'), configSource(database.description));
    current = { database, folder };
  });
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
    const finished = current;
    current = undefined;
    await finished?.database.cleanup();
    if (finished) await rm(finished.folder, { recursive: true, force: true });
  });
  const get = () => {
    assert.ok(current, 'the harness is only available inside a test');
    return current;
  };
  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
      cwd: get().folder,
      // The database is the config's: variables of the environment running the tests must not replace it.
      env: { ...process.env, DATABASE_URL: '', JOBYARD_DB: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
  return {
    database: () => get().database,
    folder: () => get().folder,
    start,
    run: (args, env) =>
      new Promise((resolve, reject) => {
        const child = start(args, env);
        let stdout = '';
        let stderr = '';
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.once('error', reject);
        child.once('close', (code) =>
          resolve({
            code,
            stdout,
            stderr,
            json: () => {
              try {
                return JSON.parse(stdout);
              } catch {
                assert.fail(`jobyard ${args.join(' ')}: stdout is not JSON\n${stdout}\nstderr: ${stderr}`);
              }
            },
          }),
        );
      }),
  };
}

/** assertExit checks a command's exit code, showing its output when it differs. */
export function assertExit(run: CliRun, code: number, what: string): void {
  assert.equal(run.code, code, `${what}: exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
}
