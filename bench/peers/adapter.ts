import { readFileSync } from 'node:fs';

/**
 * The one small interface every system under test implements, so each scenario is written
 * once and runs unchanged on jobyard (PostgreSQL, SQLite), graphile-worker, pg-boss and BullMQ.
 */

/** BenchPayload is what every job carries: its index and the wall-clock time (ms, sub-ms precision) it was sent. */
export interface BenchPayload {
  n: number;
  sentAt: number;
}

/** JobHandler is the scenario's handler; adapters call it once per job attempt with the payload. */
export type JobHandler = (payload: BenchPayload) => void | Promise<void>;

/** Backend names the database a system keeps its jobs in. */
export type Backend = 'postgres' | 'sqlite' | 'redis';

/** AdapterPlace says where an adapter's state lives; a child process given the same place sees the same jobs. */
export interface AdapterPlace {
  pgUrl: string;
  redisUrl: string;
  /** Unique per harness run: names the schema, SQLite file or Redis queue, so runs never collide. */
  runId: string;
}

/** PeerAdapter drives one system through the operations the scenarios need. */
export interface PeerAdapter {
  /** Stable name used in tables and on the command line, e.g. `jobyard-pg`. */
  readonly name: string;
  readonly backend: Backend;
  /** Package and version, e.g. `pg-boss 12.38.0`. */
  readonly version: string;
  /** The settings used, as documented by the system (shown in RESULTS.md). */
  readonly settings: string;
  /** Whether this system keeps finished jobs (scenario 5 needs a history to measure). */
  readonly keepsHistory: boolean;

  /** setup connects and creates an empty queue (schema, tables, migrations) at this adapter's place. */
  setup(): Promise<void>;
  /** attach connects to a queue that `setup` created elsewhere (a worker process), without touching it. */
  attach(): Promise<void>;
  /** reset empties everything: waiting jobs and history. Workers must be stopped. */
  reset(): Promise<void>;
  /** enqueueMany adds jobs with the system's bulk API, in one call. */
  enqueueMany(payloads: BenchPayload[]): Promise<void>;
  /** enqueue adds one job with the system's single-job API; resolves once it is stored. */
  enqueue(payload: BenchPayload): Promise<void>;
  /** startWorker starts one worker in this process running up to `concurrency` jobs at once. */
  startWorker(options: { concurrency: number; handler: JobHandler }): Promise<void>;
  /** stopWorker stops the worker gracefully (finishing and recording running jobs). */
  stopWorker(): Promise<void>;
  /** unfinishedCount counts jobs not yet completed (to check a drain, never timed). */
  unfinishedCount(): Promise<number>;
  /**
   * addHistory leaves up to `count` more completed jobs in the store, through the system's own
   * API, as fast as it allows. After each batch it calls `onProgress` with the running total
   * and stops early when that returns false. Resolves with the number added. Only for
   * systems that keep history.
   */
  addHistory(count: number, onProgress: (done: number) => boolean): Promise<number>;
  /** close releases connections and removes what `setup` created (only the process that ran setup). */
  close(options: { drop: boolean }): Promise<void>;
}

/** AdapterFactory makes an adapter for a place; nothing connects until setup or attach. */
export type AdapterFactory = (place: AdapterPlace) => PeerAdapter;

/** payloadsFrom makes `count` payloads numbered from `from`, stamped with the current time. */
export function payloadsFrom(from: number, count: number): BenchPayload[] {
  const sentAt = machineClockMs();
  return Array.from({ length: count }, (_, index) => ({ n: from + index, sentAt }));
}

/**
 * machineClockMs reads the machine's monotonic clock in ms, with sub-millisecond precision.
 * It is one clock for every process of the machine, so times taken in the enqueuing process
 * and in a worker process compare directly. (performance.timeOrigin + performance.now() does
 * not: each process samples the wall clock once at start, and those samples were measured
 * to differ by milliseconds, which made cross-process latencies negative.)
 */
export function machineClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** installedVersion reads the version of a package as installed for the harness (bench/peers/node_modules). */
export function installedVersion(name: string): string {
  // Read from the folder directly: some packages do not export their package.json.
  const path = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}
