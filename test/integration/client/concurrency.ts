import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { defineTask, type Jobyard, type TaskDefinition } from '../../../src/core/index.js';
import { allJobs, countEvents, FAST_WORKER, type MakeStore, useHarness } from './fixtures.js';

const KEY = 'tenant:42';

/** ConcurrencyLedger records, across every worker of the test, how many handlers run at once and how often each job ran. */
class ConcurrencyLedger {
  running = 0;
  maxRunning = 0;
  readonly runsByJob = new Map<string, number>();

  enter(jobId: string): void {
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.runsByJob.set(jobId, (this.runsByJob.get(jobId) ?? 0) + 1);
  }

  leave(): void {
    this.running -= 1;
  }
}

export function concurrencySuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  /** Three clients, each on its own store connection: three worker processes sharing one database. */
  async function threeWorkers(task: TaskDefinition<{ n: number }, void>): Promise<Jobyard[]> {
    const clients = [
      await harness.client({ tasks: [task] }),
      await harness.client({ tasks: [task], ownStore: true }),
      await harness.client({ tasks: [task], ownStore: true }),
    ];
    for (const client of clients) await client.start({ ...FAST_WORKER, concurrency: 5 });
    return clients;
  }

  async function runAll(clients: Jobyard[], task: TaskDefinition<{ n: number }, void>, count: number) {
    const [first] = clients;
    assert.ok(first);
    const completed = countEvents(clients, 'job:completed', count);
    const enqueued = await first.enqueueMany(
      task,
      Array.from({ length: count }, (_, n) => ({ n })),
    );
    await completed;
    return enqueued.map((result) => result.job.id);
  }

  it('never runs two jobs with the same concurrency key at once across three workers', async () => {
    const ledger = new ConcurrencyLedger();
    const task = defineTask('key.serial', {
      concurrencyKey: KEY,
      handler: async (_payload: { n: number }, { job }) => {
        ledger.enter(job.id);
        // Long enough that another worker would overlap if the key were not honoured.
        await delay(5);
        ledger.leave();
      },
    });
    const clients = await threeWorkers(task);
    const ids = await runAll(clients, task, 30);

    assert.equal(ledger.maxRunning, 1);
    assert.deepEqual([...ledger.runsByJob.keys()].sort(), [...ids].sort());
    assert.ok(
      [...ledger.runsByJob.values()].every((runs) => runs === 1),
      'each job ran once',
    );
    const jobs = await allJobs(clients[0]!);
    assert.equal(jobs.length, 30);
    assert.ok(jobs.every((job) => job.status === 'completed' && job.concurrencyKey === KEY));
  });

  it('runs at most concurrencyLimit jobs of a key at once, and reaches the limit', async () => {
    const ledger = new ConcurrencyLedger();
    const task = defineTask('key.pairs', {
      concurrencyKey: KEY,
      concurrencyLimit: 2,
      handler: async (_payload: { n: number }, { job }) => {
        ledger.enter(job.id);
        // Wait (boundedly) for a partner, so the limit is reached whenever the store allows it.
        for (let waited = 0; ledger.running < 2 && waited < 500; waited += 5) await delay(5);
        await delay(5);
        ledger.leave();
      },
    });
    const clients = await threeWorkers(task);
    const ids = await runAll(clients, task, 12);

    assert.equal(ledger.maxRunning, 2);
    assert.equal(ledger.runsByJob.size, ids.length);
    assert.ok(
      [...ledger.runsByJob.values()].every((runs) => runs === 1),
      'each job ran once',
    );
  });
}
