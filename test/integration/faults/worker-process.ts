/**
 * A Jobyard worker in a process of its own, for the fault tests (test/integration/faults):
 *
 *   node --import tsx test/integration/faults/worker-process.ts --store sqlite --database FILE --ledger FILE
 *   node --import tsx test/integration/faults/worker-process.ts --store postgres --database URL --schema NAME --ledger FILE
 *
 * Options: --concurrency N, --lease-ms MS, --poll-ms MS, --application-name NAME (PostgreSQL).
 * It runs the probe and pipeline tasks (which record every run and step in the ledger), reports on stdout one JSON
 * line per message (see WorkerMessage), logs to stderr, and stops gracefully on SIGTERM
 * (exit code 0).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import type { Store } from '../../../src/store/index.js';
import { createPostgresStore } from '../../../src/stores/postgres/store.js';
import { createSqliteStore } from '../../../src/stores/sqlite/store.js';
import { Ledger } from './ledger.js';
import { pipelineTask, probeTask } from './probe-task.js';

/** WorkerMessage is one line a worker process writes on stdout. */
export type WorkerMessage =
  | { type: 'ready' }
  /** The worker's write for a job it had lost was rejected (job:stale). */
  | { type: 'stale'; jobId: string; attempt: number; action: string }
  | { type: 'rescued'; jobId: string; attempt: number }
  | { type: 'error'; service: string; message: string };

const { values: args } = parseArgs({
  options: {
    store: { type: 'string' },
    database: { type: 'string' },
    schema: { type: 'string' },
    ledger: { type: 'string' },
    concurrency: { type: 'string', default: '10' },
    'lease-ms': { type: 'string', default: '1000' },
    'poll-ms': { type: 'string', default: '100' },
    'application-name': { type: 'string' },
  },
  strict: true,
});

function send(message: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function required(name: 'database' | 'ledger'): string {
  const value = args[name];
  if (!value) throw new Error(`worker-process: --${name} is required`);
  return value;
}

async function openStore(): Promise<Store> {
  if (args.store === 'sqlite') return createSqliteStore({ filename: required('database') });
  if (args.store === 'postgres') {
    return createPostgresStore({
      connectionString: required('database'),
      schema: args.schema,
      applicationName: args['application-name'],
    });
  }
  throw new Error(`worker-process: --store must be sqlite or postgres, not ${args.store}`);
}

const ledger = new Ledger(required('ledger'));
const store = await openStore();
const jobyard = new Jobyard({
  store,
  tasks: [probeTask(ledger), pipelineTask(ledger)],
  logger: pino({ level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
  rescuer: { intervalMs: 200 },
});
jobyard.events.on('job:stale', ({ job, action }) => send({ type: 'stale', jobId: job.id, attempt: job.attempt, action }));
jobyard.events.on('job:rescued', ({ job }) => send({ type: 'rescued', jobId: job.id, attempt: job.attempt }));
jobyard.events.on('error', ({ error, service }) => send({ type: 'error', service, message: String(error) }));

await jobyard.start({
  concurrency: Number(args.concurrency),
  leaseMs: Number(args['lease-ms']),
  pollIntervalMs: Number(args['poll-ms']),
});
process.once('SIGTERM', async () => {
  await jobyard.close({ graceMs: 5000 });
  ledger.close();
  process.exit(0);
});
send({ type: 'ready' });
