import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { defineTask } from '../../src/core/index.js';
import { createPostgresStore } from '../../src/stores/postgres/store.js';
import { freshPgStore, pgTestUrl } from '../helpers/postgres.js';
import { allJobs, mustGet, nextEvent, useHarness } from './client/fixtures.js';

const sendReceipt = defineTask('receipt.send', { handler: ({ orderId }: { orderId: number }) => ({ sent: orderId }) });

/** No polling within a test: only the notification sent on COMMIT can wake the worker. */
const NOTIFIED_ONLY_WORKER = { pollIntervalMs: 3_600_000 };

describe('Enqueue inside the caller’s PostgreSQL transaction', () => {
  const harness = useHarness(async () => {
    const { store, schema, url, cleanup } = await freshPgStore();
    return { store, openStore: () => createPostgresStore({ connectionString: url, schema }), cleanup };
  });
  // The application's own pool, as a web service that writes its rows and enqueues together.
  const appPool = new pg.Pool({ connectionString: pgTestUrl(), max: 2 });
  after(() => appPool.end());

  /** inTransaction runs `work` on one connection inside BEGIN and ends with `ending`. */
  async function inTransaction<T>(ending: 'COMMIT' | 'ROLLBACK', work: (connection: pg.PoolClient) => Promise<T>): Promise<T> {
    const connection = await appPool.connect();
    try {
      await connection.query('BEGIN');
      const result = await work(connection);
      await connection.query(ending);
      return result;
    } catch (error) {
      await connection.query('ROLLBACK');
      throw error;
    } finally {
      connection.release();
    }
  }

  it('leaves no job when the transaction rolls back', async () => {
    const client = await harness.client({ tasks: [sendReceipt] });
    await client.start(NOTIFIED_ONLY_WORKER);
    const enqueued = await inTransaction('ROLLBACK', async (transaction) => {
      const one = await client.enqueue(sendReceipt, { orderId: 1 }, { transaction });
      const many = await client.enqueueMany(sendReceipt, [{ orderId: 2 }, { orderId: 3 }], { transaction });
      return [one, ...many];
    });
    assert.equal(enqueued.length, 3);
    assert.ok(enqueued.every((result) => result.created));
    for (const { job } of enqueued) assert.equal(await client.getJob(job.id), null);
    assert.deepEqual(await allJobs(client), []);
  });

  it('stores the job on COMMIT, not before, and wakes a worker', async () => {
    const client = await harness.client({ tasks: [sendReceipt] });
    await client.start(NOTIFIED_ONLY_WORKER);
    let jobId = '';
    const completed = nextEvent(client, 'job:completed', (event) => event.job.id === jobId);
    await inTransaction('COMMIT', async (transaction) => {
      jobId = (await client.enqueue(sendReceipt, { orderId: 7 }, { transaction })).job.id;
      assert.equal(await client.getJob(jobId), null, 'invisible outside the transaction until it commits');
    });
    await completed;
    const stored = await mustGet(client, jobId);
    assert.equal(stored.status, 'completed');
    assert.deepEqual(stored.result, { sent: 7 });
  });

  it('rejects a transaction handle that is not a pg client, inserting nothing', async () => {
    const client = await harness.client({ tasks: [sendReceipt] });
    await assert.rejects(client.enqueue(sendReceipt, { orderId: 9 }, { transaction: { begin: true } }), {
      code: 'JOBYARD_VALIDATION',
    });
    assert.deepEqual(await allJobs(client), []);
  });
});
