/**
 * The repository's own config, what `npm start` (`jobyard serve`) runs: the HTTP API with a
 * worker and the scheduler, on embedded SQLite (./jobyard.db) unless DATABASE_URL, JOBYARD_DB
 * or --database say otherwise. A few example tasks and schedules, so a newcomer sees jobs
 * flow, retry and report progress within seconds, and can steer them from Swagger UI at /docs.
 * An app's own config imports from 'jobyard' instead of './src/index.js'.
 *
 * Auth is on: JOBYARD_DEV_TOKEN is registered as an admin token; when it is unset (and
 * NODE_ENV is not production) `serve` makes a random one for the run and prints it with a
 * curl example. `npm start -- --no-auth` turns auth off.
 */
import { z } from 'zod';
import { defineConfig, defineTask } from './src/index.js';

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

// Durable steps: a retry or a rescue after a crash resumes at the first unfinished step.
const importFeed = defineTask('import-feed', {
  schema: z.object({ feed: z.string() }),
  steps: ['download', 'parse', 'store'],
  handler: async ({ feed }, { step }) => {
    const pause = () => new Promise((resolve) => setTimeout(resolve, 400));
    const bytes = await step('download', async () => (await pause(), feed.length * 1024));
    const items = await step('parse', async () => (await pause(), Math.round(bytes / 100)));
    return step('store', async () => (await pause(), { feed, items }));
  },
});

export default defineConfig({
  tasks: [resizeImage, flakyWebhook, cleanup, importFeed],
  // Declared at every start; a pause made through the API survives restarts (docs/scheduler.md).
  schedules: {
    'resize-every-10s': {
      task: resizeImage,
      name: 'Resize the latest upload',
      payload: { file: 'latest-upload.jpg', sizes: [320, 640] },
      trigger: { kind: 'every', everyMs: 10_000 },
    },
    'nightly-cleanup': {
      task: cleanup,
      name: 'Nightly cleanup',
      trigger: { kind: 'cron', expression: '30 2 * * *', timezone: 'Europe/London' },
    },
  },
  worker: { concurrency: 4 },
  graceMs: 5000,
  // An option of the HTTP service: /metrics shows the process's CPU, memory and event loop too.
  processMetrics: true,
  async setup({ client }) {
    const time = () => new Date().toISOString().slice(11, 23);
    const { events } = client;
    events.on('job:started', ({ job }) => console.log(`${time()} started   ${job.task} ${job.id} (attempt ${job.attempt})`));
    events.on('job:progress', ({ job, progress, message }) =>
      console.log(`${time()} progress  ${job.task} ${job.id} ${Math.round(progress * 100)}% ${message ?? ''}`),
    );
    events.on('job:completed', ({ job, result, durationMs }) =>
      console.log(`${time()} completed ${job.task} ${job.id} in ${Math.round(durationMs)} ms -> ${JSON.stringify(result)}`),
    );
    events.on('job:retrying', ({ job, error, runAt }) =>
      console.log(`${time()} retrying  ${job.task} ${job.id}: ${error.message}; next at ${runAt.toISOString()}`),
    );
    events.on('job:failed', ({ job, error }) => console.log(`${time()} failed    ${job.task} ${job.id}: ${error.message}`));
    events.on('schedule:fired', ({ scheduleId, job }) => console.log(`${time()} fired     ${scheduleId} -> ${job.id}`));
    // A few jobs at once, so there is something to see before the first schedule fires.
    await client.enqueue(resizeImage, { file: 'photo.jpg', sizes: [320, 640, 1280] });
    await client.enqueue(flakyWebhook, { url: 'https://example.test/hooks/1' }, { priority: 'high' });
    // The cleanup waits for the import: a job with a parent (docs/jobs.md).
    const { job: feed } = await client.enqueue(importFeed, { feed: 'https://example.test/feed.xml' });
    await client.enqueue(cleanup, null, { dependsOn: [feed.id] });
  },
});
