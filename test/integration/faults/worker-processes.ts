import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from '../../../src/core/sleep.js';
import type { WorkerMessage } from './worker-process.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STDERR_TAIL_CHARS = 4000;

export interface WorkerProcessOptions {
  store: 'sqlite' | 'postgres';
  /** The SQLite file, or the PostgreSQL URL. */
  database: string;
  /** PostgreSQL schema of the test. */
  schema?: string;
  ledger: string;
  concurrency: number;
  leaseMs: number;
  /** @defaultValue 100 */
  pollIntervalMs?: number;
  /** application_name of the PostgreSQL connections, to find them in pg_stat_activity. @defaultValue the store's */
  applicationName?: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the exit was seen (ms since the epoch): the process did nothing after it. */
  at: number;
}

/** Every worker process started and not yet seen exiting, so a failed test leaves none behind. */
const live = new Set<WorkerProcess>();

/** WorkerProcess is a child process running test/integration/faults/worker-process.ts, and what it reported. */
export class WorkerProcess {
  readonly messages: WorkerMessage[] = [];
  readonly exited: Promise<ProcessExit>;
  private stderrTail = '';

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
  ) {
    live.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal, at: Date.now() });
      });
    });
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) this.messages.push(JSON.parse(line) as WorkerMessage);
        else if (line) this.keepStderr(`(stdout) ${line}\n`);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.keepStderr(chunk));
  }

  private keepStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
  }

  /** start spawns a worker process and resolves once its worker runs. */
  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const args = [
      '--import',
      'tsx',
      WORKER_SCRIPT,
      ...['--store', options.store, '--database', options.database, '--ledger', options.ledger],
      ...(options.schema ? ['--schema', options.schema] : []),
      ...['--concurrency', String(options.concurrency), '--lease-ms', String(options.leaseMs)],
      ...['--poll-ms', String(options.pollIntervalMs ?? 100)],
      ...(options.applicationName ? ['--application-name', options.applicationName] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(child.pid, 'the worker process did not start');
    const worker = new WorkerProcess(child, child.pid);
    await worker.waitFor((message) => message.type === 'ready', 'ready', READY_TIMEOUT_MS);
    return worker;
  }

  /** stderr is the end of what the process logged, for failure messages. */
  stderr(): string {
    return this.stderrTail;
  }

  /** isRunning tells whether the process has not exited (it may be stopped by SIGSTOP). */
  isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** waitFor resolves with the first message (already received or coming) that matches; fails after `timeoutMs` or when the process exits. */
  async waitFor(matches: (message: WorkerMessage) => boolean, description: string, timeoutMs = 15_000): Promise<WorkerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(matches);
      if (found) return found;
      if (!this.isRunning()) {
        assert.fail(
          `worker process ${this.pid} exited (${this.child.exitCode ?? this.child.signalCode}) before ${description}\n${this.stderr()}`,
        );
      }
      if (Date.now() > deadline) {
        assert.fail(`worker process ${this.pid}: no ${description} within ${timeoutMs} ms\n${this.stderr()}`);
      }
      await sleep(10);
    }
  }

  /** kill SIGKILLs the process and returns when it was seen dead (ms since the epoch). */
  async kill(): Promise<number> {
    this.child.kill('SIGKILL');
    return (await this.exited).at;
  }

  /** stop sends SIGTERM and asserts a graceful exit (code 0) within `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.exited,
      new Promise<null>((resolve) => (timer = setTimeout(resolve, timeoutMs, null))),
    ]);
    clearTimeout(timer);
    if (!exit) {
      this.child.kill('SIGKILL');
      assert.fail(`worker process ${this.pid} did not stop within ${timeoutMs} ms of SIGTERM\n${this.stderr()}`);
    }
    assert.deepEqual(
      { code: exit.code, signal: exit.signal },
      { code: 0, signal: null },
      `worker process ${this.pid} did not stop cleanly\n${this.stderr()}`,
    );
  }

  /** signal sends SIGSTOP or SIGCONT. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.child.kill(signal);
  }
}

/** killAllWorkers SIGKILLs every worker process still alive (test clean-up: a failed test leaves none running). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...live].map((worker) => worker.kill()));
}

/** waitUntil polls `condition` every `intervalMs` until it holds, or fails with `describe()` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  describe: () => string | Promise<string>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await sleep(intervalMs);
  }
}

/** randomBetween returns a random integer from `min` to `max`. */
export function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
