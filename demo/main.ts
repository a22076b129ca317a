/**
 * The demo that `npm start` runs: a worker on embedded SQLite (./jobyard.db) processing a
 * few example tasks, so a newcomer sees jobs flow, retry and report progress within seconds.
 * It becomes the HTTP service once that lands.
 */
import { z } from 'zod';
import { defineTask, Jobyard } from '../src/index.js';
import { createSqliteStore } from '../src/stores/sqlite/store.js';

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

const filename = process.env.JOBYARD_DB ?? './jobyard.db';
const store = await createSqliteStore({ filename });
const jobyard = new Jobyard({ store, tasks: [resizeImage, flakyWebhook] });

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

await jobyard.start({ concurrency: 4 });
console.log(`jobyard demo: worker started on ${filename} (Ctrl+C to stop)`);

let round = 0;
async function enqueueExamples() {
  round += 1;
  await jobyard.enqueue(resizeImage, { file: `photo-${round}.jpg`, sizes: [320, 640, 1280] });
  await jobyard.enqueue(flakyWebhook, { url: `https://example.test/hooks/${round}` }, { priority: 'high' });
  // A dedup key: a second enqueue while the first is live returns the same job.
  const first = await jobyard.enqueue(resizeImage, { file: 'avatar.png', sizes: [64] }, { dedupKey: 'avatar' });
  const again = await jobyard.enqueue(resizeImage, { file: 'avatar.png', sizes: [64] }, { dedupKey: 'avatar' });
  if (!again.created && first.created) console.log(`${time()} dedup     avatar -> existing job ${again.job.id}`);
}
await enqueueExamples();
const timer = setInterval(() => void enqueueExamples(), 5000);

async function shutdown() {
  clearInterval(timer);
  console.log('stopping: waiting for running jobs...');
  await jobyard.close({ graceMs: 5000 });
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
