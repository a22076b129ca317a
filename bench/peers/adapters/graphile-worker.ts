/**
 * graphile-worker with the settings of its performance page (worker.graphile.org/docs/performance):
 * concurrentJobs 24, maxPoolSize 25, a local queue of 500 jobs, completion and failure
 * batching with a 0 ms delay. Bulk enqueue is `addJobs`, single enqueue `addJob`, both
 * through WorkerUtils. It deletes jobs when they complete, so it keeps no history.
 */
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from 'graphile-worker';
import { type AdapterPlace, type BenchPayload, installedVersion, type JobHandler, type PeerAdapter } from '../adapter.js';
import { dropSchema, schemaName } from '../pg-admin.js';

const TASK = 'bench';
/** Its own log lines (start, stop) would interleave with the harness output. */
const silentLogger = new Logger(() => () => {});

class GraphileWorkerAdapter implements PeerAdapter {
  readonly name = 'graphile-worker';
  readonly backend = 'postgres';
  readonly version = `graphile-worker ${installedVersion('graphile-worker')}`;
  readonly keepsHistory = false;
  readonly settings: string;
  private readonly schema: string;
  private utils: WorkerUtils | null = null;
  private runner: Runner | null = null;

  constructor(private readonly place: AdapterPlace) {
    this.schema = schemaName('gw', place.runId);
    this.settings =
      'concurrentJobs = concurrency, maxPoolSize = concurrency + 1, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0 (its performance page)';
  }

  async setup(): Promise<void> {
    await dropSchema(this.place.pgUrl, this.schema);
    await this.attach();
    await this.workerUtils().migrate();
  }

  async attach(): Promise<void> {
    this.utils = await makeWorkerUtils({ connectionString: this.place.pgUrl, schema: this.schema, logger: silentLogger });
  }

  async reset(): Promise<void> {
    await this.close({ drop: true });
    await this.setup();
  }

  async enqueueMany(payloads: BenchPayload[]): Promise<void> {
    await this.workerUtils().addJobs(payloads.map((payload) => ({ identifier: TASK, payload })));
  }

  async enqueue(payload: BenchPayload): Promise<void> {
    await this.workerUtils().addJob(TASK, payload);
  }

  async startWorker({ concurrency, handler }: { concurrency: number; handler: JobHandler }): Promise<void> {
    this.runner = await run({
      preset: {
        worker: {
          connectionString: this.place.pgUrl,
          schema: this.schema,
          concurrentJobs: concurrency,
          maxPoolSize: concurrency + 1,
          localQueue: { size: 500 },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
      logger: silentLogger,
      noHandleSignals: true,
      taskList: { [TASK]: async (payload) => handler(payload as BenchPayload) },
    });
  }

  async stopWorker(): Promise<void> {
    await this.runner?.stop();
    this.runner = null;
  }

  async unfinishedCount(): Promise<number> {
    // Completed jobs are deleted, so every row left is unfinished.
    return this.workerUtils().withPgClient(async (client) => {
      const result = await client.query<{ count: string }>(`SELECT count(*) AS count FROM "${this.schema}".jobs`);
      return Number(result.rows[0]?.count ?? 0);
    });
  }

  async addHistory(): Promise<number> {
    throw new Error('graphile-worker deletes completed jobs: it has no history to grow');
  }

  async close({ drop }: { drop: boolean }): Promise<void> {
    await this.stopWorker();
    await this.utils?.release();
    this.utils = null;
    if (drop) await dropSchema(this.place.pgUrl, this.schema);
  }

  private workerUtils(): WorkerUtils {
    if (!this.utils) throw new Error(`${this.name}: not set up`);
    return this.utils;
  }
}

/** graphileWorker is graphile-worker on a PostgreSQL schema of its own. */
export function graphileWorker(place: AdapterPlace): PeerAdapter {
  return new GraphileWorkerAdapter(place);
}
