/**
 * Worker processes for the scenarios that drain a queue or measure latency across
 * processes: each child (worker-process.ts) runs one adapter worker under the same Node
 * binary and loader flags as the harness, and reports over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { AdapterPlace } from './adapter.js';
import type { AdapterName } from './adapters/index.js';

export type ParentMessage = { type: 'start' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'starting'; at: number }
  | { type: 'progress'; handled: number; lastHandledAt: number }
  | { type: 'stopped'; handled: number; lastHandledAt: number; latencies: number[] }
  | { type: 'failed'; message: string };

interface ChildState {
  process: ChildProcess;
  ready: boolean;
  handled: number;
  lastHandledAt: number;
  startingAt: number;
  stopped: { handled: number; latencies: number[] } | null;
}

/** How long a stopped worker process gets to exit (and write its profile) before it is killed. */
const EXIT_GRACE_MS = 15_000;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, EXIT_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const SCRIPT = new URL('./worker-process.ts', import.meta.url).pathname;

/** WorkerProcesses is a set of worker processes on one adapter's queue. */
export class WorkerProcesses {
  private readonly children: ChildState[] = [];
  private failure: Error | null = null;
  private readonly listeners = new Set<() => void>();

  private constructor(count: number, adapter: AdapterName, place: AdapterPlace, concurrency: number, extraExecArgv: string[]) {
    for (let index = 0; index < count; index += 1) {
      const child = fork(SCRIPT, [adapter, JSON.stringify(place), String(concurrency)], {
        execArgv: [...process.execArgv, ...extraExecArgv],
        serialization: 'advanced',
        stdio: 'inherit',
      });
      const state: ChildState = { process: child, ready: false, handled: 0, lastHandledAt: 0, startingAt: 0, stopped: null };
      child.on('message', (message: ChildMessage) => this.receive(state, message));
      child.on('exit', (code, signal) => {
        // Messages still in the IPC pipe are delivered before 'disconnect'.
        const check = () => {
          if (state.stopped === null) this.fail(new Error(`worker process exited early (code ${code}, signal ${signal})`));
        };
        if (child.connected) child.once('disconnect', check);
        else check();
      });
      this.children.push(state);
    }
  }

  /** spawn starts `count` worker processes and resolves once each has connected. */
  static async spawn(options: {
    count: number;
    adapter: AdapterName;
    place: AdapterPlace;
    concurrency: number;
    extraExecArgv: string[];
  }): Promise<WorkerProcesses> {
    const set = new WorkerProcesses(options.count, options.adapter, options.place, options.concurrency, options.extraExecArgv);
    try {
      await set.until(() => set.children.every((child) => child.ready));
    } catch (error) {
      set.kill();
      throw error;
    }
    return set;
  }

  /** handled is how many jobs the processes have started so far. */
  get handled(): number {
    return this.children.reduce((sum, child) => sum + child.handled, 0);
  }

  /** start tells every process to start its worker and returns the wall-clock time just before the first did. */
  async start(): Promise<number> {
    for (const child of this.children) child.process.send({ type: 'start' } satisfies ParentMessage);
    await this.until(() => this.children.every((child) => child.startingAt > 0));
    return Math.min(...this.children.map((child) => child.startingAt));
  }

  /** untilHandled resolves with the wall-clock time of the last job started once `target` jobs have started. */
  async untilHandled(target: number): Promise<number> {
    await this.until(() => this.handled >= target);
    return Math.max(...this.children.map((child) => child.lastHandledAt));
  }

  /** stop stops every worker gracefully and returns the latencies they recorded (ms). */
  async stop(): Promise<number[]> {
    for (const child of this.children) child.process.send({ type: 'stop' } satisfies ParentMessage);
    await this.until(() => this.children.every((child) => child.stopped !== null));
    await Promise.all(this.children.map((child) => exited(child.process)));
    return this.children.flatMap((child) => child.stopped?.latencies ?? []);
  }

  /** kill ends every process at once (after a timeout or a failure). */
  kill(): void {
    for (const child of this.children) {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
    }
  }

  private receive(child: ChildState, message: ChildMessage): void {
    switch (message.type) {
      case 'starting':
        child.startingAt = message.at;
        break;
      case 'progress':
        child.handled = message.handled;
        child.lastHandledAt = message.lastHandledAt;
        break;
      case 'stopped':
        child.handled = message.handled;
        child.lastHandledAt = message.lastHandledAt;
        child.stopped = { handled: message.handled, latencies: message.latencies };
        break;
      case 'failed':
        this.fail(new Error(`worker process failed: ${message.message}`));
        break;
      case 'ready':
        child.ready = true;
        break;
    }
    for (const listener of this.listeners) listener();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const listener of this.listeners) listener();
  }

  /** until resolves when `done()` holds after a message (or rejects on a child failure). */
  private until(done: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.failure) {
          this.listeners.delete(check);
          reject(this.failure);
        } else if (done()) {
          this.listeners.delete(check);
          resolve();
        }
      };
      this.listeners.add(check);
      check();
    });
  }
}
