/**
 * A Jobyard client with a Scheduler in a process of its own, for the multi-process scheduler
 * test (processes-postgres.test.ts):
 *
 *   node --import tsx test/integration/scheduler/scheduler-process.ts --database URL --schema NAME --poll-ms MS
 *
 * It declares the every-second schedule at start-up (as each process of an app does), runs the
 * fire loop, reports on stdout one JSON line per message (see SchedulerMessage) for the schedule
 * events of its own client, logs to stderr, and stops gracefully on SIGTERM (exit code 0).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import { Scheduler } from '../../../src/scheduler/index.js';
import { createPostgresStore } from '../../../src/stores/postgres/store.js';
import { EVERY_SECOND, EVERY_SECOND_ID, tickTask } from './every-second-schedule.js';

/** SchedulerMessage is one line a scheduler process writes on stdout. */
export type SchedulerMessage =
  | { type: 'ready' }
  | { type: 'fired'; fireAt: string; jobId: string }
  | { type: 'missed' | 'skipped'; fireAt: string; reason: string }
  | { type: 'error'; service: string; message: string };

const { values: args } = parseArgs({
  options: {
    database: { type: 'string' },
    schema: { type: 'string' },
    'poll-ms': { type: 'string', default: '100' },
  },
  strict: true,
});

function send(message: SchedulerMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

if (!args.database || !args.schema) throw new Error('scheduler-process: --database and --schema are required');
const store = await createPostgresStore({ connectionString: args.database, schema: args.schema });
const jobyard = new Jobyard({
  store,
  tasks: [tickTask],
  logger: pino({ level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
});
const { events } = jobyard;
events.on('schedule:fired', ({ fireAt, job }) => send({ type: 'fired', fireAt: fireAt.toISOString(), jobId: job.id }));
events.on('schedule:missed', ({ fireAt, reason }) => send({ type: 'missed', fireAt: fireAt.toISOString(), reason }));
events.on('schedule:skipped', ({ fireAt, reason }) => send({ type: 'skipped', fireAt: fireAt.toISOString(), reason }));
events.on('error', ({ error, service }) => send({ type: 'error', service, message: String(error) }));

const scheduler = new Scheduler(jobyard, { pollIntervalMs: Number(args['poll-ms']) });
await scheduler.schedule(EVERY_SECOND_ID, EVERY_SECOND);
scheduler.start();
process.once('SIGTERM', async () => {
  await scheduler.stop();
  await jobyard.close();
  process.exit(0);
});
send({ type: 'ready' });
