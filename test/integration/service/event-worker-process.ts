/**
 * A worker in a process of its own that publishes its events, for the cross-process event
 * stream test (test/integration/service-events-postgres.test.ts):
 *
 *   node --import tsx test/integration/service/event-worker-process.ts --database URL --schema NAME
 *
 * It runs the report task from the `reports` queue, writes `{"type":"ready"}` on stdout once
 * its worker runs, and stops gracefully on SIGTERM (exit code 0).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Jobyard } from '../../../src/core/index.js';
import { createPostgresStore } from '../../../src/stores/postgres/store.js';
import { buildReport } from './report-task.js';

const { values: args } = parseArgs({
  options: { database: { type: 'string' }, schema: { type: 'string' } },
  strict: true,
});

const store = await createPostgresStore({ connectionString: args.database, schema: args.schema });
const jobyard = new Jobyard({
  store,
  tasks: [buildReport],
  logger: pino({ level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
  publishEvents: true,
});
await jobyard.start({ queues: ['reports'], pollIntervalMs: 50 });
process.once('SIGTERM', async () => {
  await jobyard.close({ graceMs: 5000 });
  process.exit(0);
});
process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
