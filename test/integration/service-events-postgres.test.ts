import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { Jobyard } from '../../src/core/index.js';
import { createServer } from '../../src/service/index.js';
import { freshPgStore } from '../helpers/postgres.js';
import { killAllScriptProcesses, ScriptProcess } from '../helpers/script-process.js';
import { EventStreamReader } from '../helpers/sse.js';
import { silentLogger } from './service/fixtures.js';
import { buildReport } from './service/report-task.js';

const WORKER_SCRIPT = new URL('./service/event-worker-process.ts', import.meta.url).pathname;

after(killAllScriptProcesses);

it('streams the records of a job that another process runs (PostgreSQL LISTEN/NOTIFY)', async () => {
  const { store, schema, url, cleanup } = await freshPgStore();
  // This process only enqueues and serves: it has no worker, so the job can only run elsewhere.
  const client = new Jobyard({ store, tasks: [buildReport], logger: silentLogger });
  const app = createServer({ client, logger: silentLogger, auth: { devToken: 'events-test-token' } });
  const worker = new ScriptProcess<{ type: string }>('event worker process', WORKER_SCRIPT, [
    '--database',
    url,
    '--schema',
    schema,
  ]);
  try {
    const stream = await EventStreamReader.open(`${await app.listen({ port: 0, host: '127.0.0.1' })}/api/events?queue=reports`, {
      authorization: 'Bearer events-test-token',
    });
    await worker.waitFor((message) => message.type === 'ready', 'ready');
    const { job } = await client.enqueue(buildReport, {});
    await stream.next((message) => message.event === 'job:completed', 'job:completed from the worker process', 15_000);
    await stream.close();
    assert.deepEqual(
      stream
        .records()
        .filter((record) => record.jobId === job.id)
        .map(({ type, status, attempt, progress }) => ({ type, status, attempt, progress })),
      [
        { type: 'job:enqueued', status: 'available', attempt: 0, progress: undefined },
        { type: 'job:started', status: 'running', attempt: 1, progress: undefined },
        { type: 'job:progress', status: 'running', attempt: 1, progress: 0.5 },
        { type: 'job:progress', status: 'running', attempt: 1, progress: 1 },
        { type: 'job:completed', status: 'completed', attempt: 1, progress: undefined },
      ],
    );
    assert.equal((await client.getJob(job.id))?.status, 'completed');
    await worker.stop();
  } finally {
    await app.close();
    await client.close();
    await cleanup();
  }
});
