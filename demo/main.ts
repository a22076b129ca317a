/**
 * The demo that `npm start` runs: the HTTP API with a worker and the scheduler, on embedded
 * SQLite (./jobyard.db, or JOBYARD_DB) or on PostgreSQL when DATABASE_URL is set. It runs a
 * few example tasks and schedules, so a newcomer sees jobs flow, retry and report progress
 * within seconds, and can steer them from Swagger UI at /docs.
 *
 * Auth is on: JOBYARD_DEV_TOKEN is registered as an admin token; when it is unset (and
 * NODE_ENV is not production) a random one is made for this run and printed with a curl
 * example. `npm start -- --no-auth` turns auth off (with a warning).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { defineTask, Jobyard, Scheduler } from '../src/index.js';
import { createServer } from '../src/service/index.js';
import type { Store } from '../src/store/index.js';

const resizeImage = defineTask('resize-image', {
  schema: z.object({ file: z.string(), sizes: z.array(z.number().int().positive()) }),
  handler: async ({ file, sizes }, { progress, signal }) => {
    for (const [index, size] of sizes.entries()) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      signal.throwIfAborted();
      await progress((index + 1) / sizes.length, `resized ${file} to ${size}px`);
    }
    return { file, variants: sizes.length };
  },
});

const flakyWebhook = defineTask('flaky-webhook', {
  schema: z.object({ url: z.string().url() }),
  maxAttempts: 3,
  backoff: { type: 'exponential', baseMs: 500 },
  handler: async ({ url }, { job }) => {
    if (Math.random() < 0.5) throw new Error(`POST ${url} answered 503 (attempt ${job.attempt})`);
    return { delivered: url };
  },
});

const cleanup = defineTask('cleanup', {
  handler: async (_payload: null, { log }) => {
    log.info('nothing to clean up in the demo');
    return { removed: 0 };
  },
});

/** openStore picks the store: PostgreSQL when DATABASE_URL is set, else SQLite (loaded only when used). */
async function openStore(): Promise<{ store: Store; where: string }> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const { createPostgresStore } = await import('../src/stores/postgres/store.js');
    return { store: await createPostgresStore({ connectionString: url }), where: `PostgreSQL (${new URL(url).host})` };
  }
  const filename = process.env.JOBYARD_DB ?? './jobyard.db';
  const { createSqliteStore } = await import('../src/stores/sqlite/store.js');
  return { store: await createSqliteStore({ filename }), where: filename };
}

const { store, where } = await openStore();
// publishEvents: other processes on the same PostgreSQL database (a second `npm start`) see
// this one's jobs on their GET /api/events.
const jobyard = new Jobyard({ store, tasks: [resizeImage, flakyWebhook, cleanup], publishEvents: true });
const scheduler = new Scheduler(jobyard);

const time = () => new Date().toISOString().slice(11, 23);
jobyard.events.on('job:started', ({ job }) => console.log(`${time()} started   ${job.task} ${job.id} (attempt ${job.attempt})`));
jobyard.events.on('job:progress', ({ job, progress, message }) =>
  console.log(`${time()} progress  ${job.task} ${job.id} ${Math.round(progress * 100)}% ${message ?? ''}`),
);
jobyard.events.on('job:completed', ({ job, result, durationMs }) =>
  console.log(`${time()} completed ${job.task} ${job.id} in ${Math.round(durationMs)} ms -> ${JSON.stringify(result)}`),
);
jobyard.events.on('job:retrying', ({ job, error, runAt }) =>
  console.log(`${time()} retrying  ${job.task} ${job.id}: ${error.message}; next at ${runAt.toISOString()}`),
);
jobyard.events.on('job:failed', ({ job, error }) => console.log(`${time()} failed    ${job.task} ${job.id}: ${error.message}`));
jobyard.events.on('schedule:fired', ({ scheduleId, job }) => console.log(`${time()} fired     ${scheduleId} -> ${job.id}`));

// Declared at every start; a pause made through the API survives restarts (docs/scheduler.md).
await scheduler.schedule('resize-every-10s', {
  task: resizeImage,
  name: 'Resize the latest upload',
  payload: { file: 'latest-upload.jpg', sizes: [320, 640] },
  trigger: { kind: 'every', everyMs: 10_000 },
});
await scheduler.schedule('nightly-cleanup', {
  task: cleanup,
  name: 'Nightly cleanup',
  trigger: { kind: 'cron', expression: '30 2 * * *', timezone: 'Europe/London' },
});

await jobyard.start({ concurrency: 4 });
scheduler.start();

// A few jobs at once, so there is something to see before the first schedule fires.
await jobyard.enqueue(resizeImage, { file: 'photo.jpg', sizes: [320, 640, 1280] });
await jobyard.enqueue(flakyWebhook, { url: 'https://example.test/hooks/1' }, { priority: 'high' });

const noAuth = process.argv.includes('--no-auth');
const production = process.env.NODE_ENV === 'production';
// The library reads no JOBYARD_* variable: the app passes the dev token in.
const devToken = process.env.JOBYARD_DEV_TOKEN ?? (production ? undefined : `jydev_${randomBytes(24).toString('base64url')}`);
const server = createServer({
  client: jobyard,
  scheduler,
  processMetrics: true,
  auth: noAuth ? false : devToken === undefined ? {} : { devToken },
});
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const address = await server.listen({ port, host });
console.log(`jobyard demo: worker and scheduler on ${where}`);
console.log(
  `API ${address}/api/jobs, live events ${address}/api/events, Swagger UI ${address}/docs,\n  metrics ${address}/metrics (Ctrl+C to stop)`,
);
if (noAuth) console.log('auth is OFF (--no-auth): every caller is an admin');
else if (devToken !== undefined) {
  const origin =
    process.env.JOBYARD_DEV_TOKEN === undefined ? 'made for this run; set JOBYARD_DEV_TOKEN to choose it' : 'JOBYARD_DEV_TOKEN';
  console.log(`admin dev token (${origin}): ${devToken}`);
  console.log(`  curl -H "Authorization: Bearer ${devToken}" ${address}/api/jobs`);
  console.log('  in Swagger UI: Authorize, then paste the token');
} else console.log('no dev token in production: send an API key (POST /api/tokens) as Authorization: Bearer <key>');

async function shutdown() {
  console.log('stopping: waiting for running jobs...');
  await server.close();
  await scheduler.stop();
  await jobyard.close({ graceMs: 5000 });
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
