/**
 * pg-boss with LISTEN/NOTIFY on (`useListenNotify`, queue `notify: true`) and a batch worker.
 * Its `work()` polls: after a fetch that is not full it waits for the polling interval (or a
 * notification), so one-job fetches cap a worker at one job per interval. Its docs give two
 * levers for throughput: `batchSize` with `burstWhenBatchFull` (keep fetching while batches
 * come back full) and `localConcurrency` (more polling workers). Concurrency N is run as
 * WORKERS workers fetching N / WORKERS jobs each, the batch's jobs run in parallel, and a
 * batch is completed in one call. Bulk enqueue is `insert`, single enqueue `send`.
 */
import { PgBoss } from 'pg-boss';
import {
  type AdapterPlace,
  type BenchPayload,
  installedVersion,
  type JobHandler,
  type PeerAdapter,
  payloadsFrom,
} from '../adapter.js';
import { dropSchema, schemaName, withPg } from '../pg-admin.js';

const QUEUE = 'bench';
/** Polling workers sharing the concurrency (the best of 1, 2, 4 and 8 in a quick run: see RESULTS.md). */
const WORKERS = Number(process.env.BENCH_PGBOSS_WORKERS ?? 4);
/** Jobs fetched and completed per call while adding history. */
const HISTORY_BATCH = 5_000;

class PgBossAdapter implements PeerAdapter {
  readonly name = 'pg-boss';
  readonly backend = 'postgres';
  readonly version = `pg-boss ${installedVersion('pg-boss')}`;
  readonly keepsHistory = true;
  readonly settings =
    `useListenNotify, queue notify, ${WORKERS} workers (localConcurrency) × batchSize concurrency/${WORKERS}, burstWhenBatchFull, pollingIntervalSeconds 0.5, pool max 10 (default)`;
  private readonly schema: string;
  private boss: PgBoss | null = null;

  constructor(private readonly place: AdapterPlace) {
    this.schema = schemaName('pb', place.runId);
  }

  async setup(): Promise<void> {
    await dropSchema(this.place.pgUrl, this.schema);
    await this.attach();
    await this.pgBoss().createQueue(QUEUE, { notify: true });
  }

  async attach(): Promise<void> {
    const boss = new PgBoss({ connectionString: this.place.pgUrl, schema: this.schema, useListenNotify: true });
    boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
    await boss.start();
    this.boss = boss;
  }

  async reset(): Promise<void> {
    await this.close({ drop: true });
    await this.setup();
  }

  async enqueueMany(payloads: BenchPayload[]): Promise<void> {
    await this.pgBoss().insert(
      QUEUE,
      payloads.map((data) => ({ data })),
    );
  }

  async enqueue(payload: BenchPayload): Promise<void> {
    await this.pgBoss().send(QUEUE, payload);
  }

  async startWorker({ concurrency, handler }: { concurrency: number; handler: JobHandler }): Promise<void> {
    const workers = Math.min(WORKERS, concurrency);
    await this.pgBoss().work<BenchPayload>(
      QUEUE,
      {
        localConcurrency: workers,
        batchSize: Math.max(1, Math.floor(concurrency / workers)),
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 0.5,
      },
      async (jobs) => {
        await Promise.all(jobs.map((job) => handler(job.data)));
      },
    );
  }

  async stopWorker(): Promise<void> {
    await this.pgBoss().offWork(QUEUE, { wait: true });
  }

  async unfinishedCount(): Promise<number> {
    return withPg(this.place.pgUrl, async (client) => {
      const result = await client.query<{ count: string }>(
        `SELECT count(*) AS count FROM "${this.schema}".job WHERE name = $1 AND state <> 'completed'`,
        [QUEUE],
      );
      return Number(result.rows[0]?.count ?? 0);
    });
  }

  async addHistory(count: number, onProgress: (done: number) => boolean): Promise<number> {
    const boss = this.pgBoss();
    let done = 0;
    while (done < count) {
      const batch = Math.min(HISTORY_BATCH, count - done);
      await boss.insert(
        QUEUE,
        payloadsFrom(done, batch).map((data) => ({ data })),
      );
      const jobs = await boss.fetch(QUEUE, { batchSize: batch });
      await boss.complete(
        QUEUE,
        jobs.map((job) => job.id),
      );
      done += jobs.length;
      if (!onProgress(done)) break;
    }
    return done;
  }

  async close({ drop }: { drop: boolean }): Promise<void> {
    await this.boss?.stop({ graceful: true, timeout: 10_000 });
    this.boss = null;
    if (drop) await dropSchema(this.place.pgUrl, this.schema);
  }

  private pgBoss(): PgBoss {
    if (!this.boss) throw new Error(`${this.name}: not set up`);
    return this.boss;
  }
}

/** pgBoss is pg-boss on a PostgreSQL schema of its own. */
export function pgBoss(place: AdapterPlace): PeerAdapter {
  return new PgBossAdapter(place);
}
