/**
 * jobyard through its public API: `enqueueMany`, `enqueue`, `start({ concurrency, prefetch })`,
 * `stop`. The worker runs as the README recommends for many short jobs: `prefetch` 500, the
 * same local buffer graphile-worker's adapter gets (localQueue.size 500); other settings are
 * the defaults (lease 30 s, poll 1 s). History is added through the Store port the client
 * exposes (`client.store`: claim and settle in batches), the fastest public path there is.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { defineTask, Jobyard, type Store } from '../../../src/index.js';
import { createSqliteStore } from '../../../src/stores/sqlite/store.js';
import { type AdapterPlace, type BenchPayload, type JobHandler, type PeerAdapter, payloadsFrom } from '../adapter.js';
import { dropSchema, schemaName } from '../pg-admin.js';

const rootPackage = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Jobs claimed and settled per round trip while adding history. */
const HISTORY_BATCH = 5_000;
const QUEUE = 'default';
/** Jobs the worker claims ahead of free slots: the README's setting for many short jobs. */
const PREFETCH = 500;

class JobyardAdapter implements PeerAdapter {
  readonly version = `jobyard ${rootPackage.version} (this repository)`;
  readonly settings =
    `one client, worker \`start({ concurrency, prefetch: ${PREFETCH} })\`, other options at their defaults (lease 30 s, poll 1 s)`;
  readonly keepsHistory = true;
  private client: Jobyard | null = null;
  private handler: JobHandler = () => {};
  private readonly task = defineTask('bench', { handler: (payload: BenchPayload) => this.handler(payload) });

  constructor(
    readonly name: string,
    readonly backend: 'postgres' | 'sqlite',
    private readonly openStore: () => Promise<Store>,
    private readonly removeStore: () => Promise<void>,
  ) {}

  async setup(): Promise<void> {
    await this.removeStore();
    await this.attach();
  }

  async attach(): Promise<void> {
    const logger = pino({ level: process.env.JOBYARD_LOG_LEVEL ?? 'warn' });
    this.client = new Jobyard({ store: await this.openStore(), tasks: [this.task], logger });
  }

  async reset(): Promise<void> {
    await this.close({ drop: true });
    await this.setup();
  }

  async enqueueMany(payloads: BenchPayload[]): Promise<void> {
    await this.jobyard().enqueueMany(this.task, payloads);
  }

  async enqueue(payload: BenchPayload): Promise<void> {
    await this.jobyard().enqueue(this.task, payload);
  }

  async startWorker({ concurrency, handler }: { concurrency: number; handler: JobHandler }): Promise<void> {
    this.handler = handler;
    await this.jobyard().start({ concurrency, prefetch: PREFETCH, queues: [QUEUE] });
  }

  async stopWorker(): Promise<void> {
    await this.jobyard().stop({ graceMs: 10_000 });
  }

  async unfinishedCount(): Promise<number> {
    const stats = await this.jobyard().queueStats();
    return stats.reduce((sum, queue) => sum + queue.total - queue.counts.completed, 0);
  }

  async addHistory(count: number, onProgress: (done: number) => boolean): Promise<number> {
    const client = this.jobyard();
    const store = client.store;
    let done = 0;
    while (done < count) {
      const batch = Math.min(HISTORY_BATCH, count - done);
      await client.enqueueMany(this.task, payloadsFrom(done, batch));
      const claimed = await store.jobClaim({
        queues: [QUEUE],
        workerId: 'bench-history',
        limit: batch,
        leaseMs: 60_000,
        now: new Date(),
      });
      await store.jobSettleMany({
        settles: claimed.map(({ job, leaseToken }) => ({ id: job.id, leaseToken, outcome: { kind: 'completed', result: null } })),
        now: new Date(),
      });
      done += claimed.length;
      if (!onProgress(done)) break;
    }
    return done;
  }

  async close({ drop }: { drop: boolean }): Promise<void> {
    await this.client?.close({ graceMs: 0 });
    this.client = null;
    if (drop) await this.removeStore();
  }

  private jobyard(): Jobyard {
    if (!this.client) throw new Error(`${this.name}: not set up`);
    return this.client;
  }
}

/** jobyardPostgres is jobyard on a PostgreSQL schema of its own. */
export function jobyardPostgres(place: AdapterPlace): PeerAdapter {
  const schema = schemaName('jy', place.runId);
  return new JobyardAdapter(
    'jobyard-pg',
    'postgres',
    async () => {
      const { createPostgresStore } = await import('../../../src/stores/postgres/store.js');
      return createPostgresStore({ connectionString: place.pgUrl, schema });
    },
    () => dropSchema(place.pgUrl, schema),
  );
}

/** jobyardSqlite is jobyard on a SQLite file in the OS temp folder (the store's defaults: WAL, synchronous FULL). */
export function jobyardSqlite(place: AdapterPlace): PeerAdapter {
  const filename = join(tmpdir(), `jobyard-peers-${place.runId}.db`);
  return new JobyardAdapter(
    'jobyard-sqlite',
    'sqlite',
    () => createSqliteStore({ filename }),
    async () => {
      await Promise.all(['', '-wal', '-shm', '-journal'].map((suffix) => rm(`${filename}${suffix}`, { force: true })));
    },
  );
}
