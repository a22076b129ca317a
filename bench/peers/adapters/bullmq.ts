/**
 * BullMQ on Redis with its documented defaults: a Worker with `concurrency`, connection
 * options passed to ioredis (the Worker sets `maxRetriesPerRequest: null` on its blocking
 * connection itself). Completed jobs are kept (the default), as jobyard and pg-boss keep
 * theirs, so scenario 5 has a history to measure. Bulk enqueue is `addBulk`, single `add`.
 */
import { Queue, Worker } from 'bullmq';
import {
  type AdapterPlace,
  type BenchPayload,
  installedVersion,
  type JobHandler,
  type PeerAdapter,
  payloadsFrom,
} from '../adapter.js';

const JOB_NAME = 'bench';
/** Jobs added and worked per round while adding history, and the concurrency that works them. */
const HISTORY_BATCH = 10_000;
const HISTORY_CONCURRENCY = 500;
const STALL_LIMIT_MS = 60_000;

class BullMqAdapter implements PeerAdapter {
  readonly name = 'bullmq';
  readonly backend = 'redis';
  readonly version = `bullmq ${installedVersion('bullmq')} (ioredis ${installedVersion('ioredis')})`;
  readonly keepsHistory = true;
  readonly settings = 'Worker `concurrency`, default job options (completed jobs kept), one Queue connection, ioredis defaults';
  private readonly queueName: string;
  private readonly connection: { host: string; port: number };
  private queue: Queue | null = null;
  private worker: Worker | null = null;

  constructor(place: AdapterPlace) {
    this.queueName = `peers-${place.runId}`;
    const url = new URL(place.redisUrl);
    this.connection = { host: url.hostname, port: Number(url.port || 6379) };
  }

  async setup(): Promise<void> {
    await this.attach();
    await this.bullQueue().obliterate({ force: true });
  }

  async attach(): Promise<void> {
    this.queue = new Queue(this.queueName, { connection: this.connection });
    await this.queue.waitUntilReady();
  }

  async reset(): Promise<void> {
    await this.bullQueue().obliterate({ force: true });
  }

  async enqueueMany(payloads: BenchPayload[]): Promise<void> {
    await this.bullQueue().addBulk(payloads.map((data) => ({ name: JOB_NAME, data })));
  }

  async enqueue(payload: BenchPayload): Promise<void> {
    await this.bullQueue().add(JOB_NAME, payload);
  }

  async startWorker({ concurrency, handler }: { concurrency: number; handler: JobHandler }): Promise<void> {
    this.worker = new Worker<BenchPayload>(this.queueName, async (job) => handler(job.data), {
      connection: this.connection,
      concurrency,
    });
    this.worker.on('error', (error) => console.error(`bullmq worker: ${error.message}`));
    await this.worker.waitUntilReady();
  }

  async stopWorker(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
  }

  async unfinishedCount(): Promise<number> {
    const counts = await this.bullQueue().getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async addHistory(count: number, onProgress: (done: number) => boolean): Promise<number> {
    const queue = this.bullQueue();
    let completed = 0;
    const worker = new Worker(this.queueName, async () => {}, {
      connection: this.connection,
      concurrency: HISTORY_CONCURRENCY,
    });
    worker.on('completed', () => {
      completed += 1;
    });
    let added = 0;
    try {
      while (added < count) {
        const batch = Math.min(HISTORY_BATCH, count - added);
        await queue.addBulk(payloadsFrom(added, batch).map((data) => ({ name: JOB_NAME, data })));
        added += batch;
        await untilCompleted(() => completed, added);
        if (!onProgress(added)) break;
      }
    } finally {
      await worker.close();
    }
    return added;
  }

  async close({ drop }: { drop: boolean }): Promise<void> {
    await this.stopWorker();
    if (drop) await this.queue?.obliterate({ force: true });
    await this.queue?.close();
    this.queue = null;
  }

  private bullQueue(): Queue {
    if (!this.queue) throw new Error(`${this.name}: not set up`);
    return this.queue;
  }
}

/** untilCompleted waits for the history worker to catch up, failing if it makes no progress for a minute. */
async function untilCompleted(completed: () => number, target: number): Promise<void> {
  let last = completed();
  let lastProgressAt = performance.now();
  while (completed() < target) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (completed() !== last) [last, lastProgressAt] = [completed(), performance.now()];
    else if (performance.now() - lastProgressAt > STALL_LIMIT_MS)
      throw new Error(`history worker stalled at ${last} of ${target} jobs`);
  }
}

/** bullMq is BullMQ on the local Redis, in a queue of its own. */
export function bullMq(place: AdapterPlace): PeerAdapter {
  return new BullMqAdapter(place);
}
