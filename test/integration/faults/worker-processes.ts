import { fileURLToPath } from 'node:url';
import { ScriptProcess } from '../../helpers/script-process.js';
import type { WorkerMessage } from './worker-process.js';

export { killAllScriptProcesses as killAllWorkers, waitUntil } from '../../helpers/script-process.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const READY_TIMEOUT_MS = 20_000;

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

/** WorkerProcess is a child process running test/integration/faults/worker-process.ts, and what it reported. */
export class WorkerProcess extends ScriptProcess<WorkerMessage> {
  /** start spawns a worker process and resolves once its worker runs. */
  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    const worker = new WorkerProcess('worker process', WORKER_SCRIPT, [
      ...['--store', options.store, '--database', options.database, '--ledger', options.ledger],
      ...(options.schema ? ['--schema', options.schema] : []),
      ...['--concurrency', String(options.concurrency), '--lease-ms', String(options.leaseMs)],
      ...['--poll-ms', String(options.pollIntervalMs ?? 100)],
      ...(options.applicationName ? ['--application-name', options.applicationName] : []),
    ]);
    await worker.waitFor((message) => message.type === 'ready', 'ready', READY_TIMEOUT_MS);
    return worker;
  }
}

/** randomBetween returns a random integer from `min` to `max`. */
export function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
