import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { sleep } from '../../src/core/sleep.js';

const STDERR_TAIL_CHARS = 4000;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the exit was seen (ms since the epoch): the process did nothing after it. */
  at: number;
}

/** Every script process started and not yet seen exiting, so a failed test leaves none behind. */
const live = new Set<ScriptProcess<unknown>>();

/**
 * ScriptProcess is a child process running a test script (`node --import tsx SCRIPT ...ARGS`,
 * as the crash and multi-process tests need real processes) that reports on stdout one JSON
 * message per line: it keeps the messages and the end of what the process logged.
 */
export class ScriptProcess<Message> {
  readonly messages: Message[] = [];
  readonly exited: Promise<ProcessExit>;
  readonly child: ChildProcess;
  readonly pid: number;
  private stderrTail = '';

  /** The constructor spawns the script; `name` (e.g. "worker process") labels failure messages. */
  constructor(
    readonly name: string,
    script: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(this.child.pid, `the ${name} did not start`);
    this.pid = this.child.pid;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal, at: Date.now() });
      });
    });
    let partial = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) this.messages.push(JSON.parse(line) as Message);
        else if (line) this.keepStderr(`(stdout) ${line}\n`);
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.keepStderr(chunk));
  }

  private keepStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
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
  async waitFor(matches: (message: Message) => boolean, description: string, timeoutMs = 15_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(matches);
      if (found) return found;
      if (!this.isRunning()) {
        assert.fail(
          `${this.name} ${this.pid} exited (${this.child.exitCode ?? this.child.signalCode}) before ${description}\n${this.stderr()}`,
        );
      }
      if (Date.now() > deadline) {
        assert.fail(`${this.name} ${this.pid}: no ${description} within ${timeoutMs} ms\n${this.stderr()}`);
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
      assert.fail(`${this.name} ${this.pid} did not stop within ${timeoutMs} ms of SIGTERM\n${this.stderr()}`);
    }
    assert.deepEqual(
      { code: exit.code, signal: exit.signal },
      { code: 0, signal: null },
      `${this.name} ${this.pid} did not stop cleanly\n${this.stderr()}`,
    );
  }

  /** signal sends SIGSTOP or SIGCONT. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.child.kill(signal);
  }
}

/** killAllScriptProcesses SIGKILLs every script process still alive (test clean-up: a failed test leaves none running). */
export async function killAllScriptProcesses(): Promise<void> {
  await Promise.all([...live].map((process) => process.kill()));
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
