import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineTask } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import {
  FAKE_CLOCK_WORKER,
  FAST_WORKER,
  FakeClock,
  forJob,
  type MakeStore,
  mustGet,
  nextEvent,
  useHarness,
  watchCalls,
} from './fixtures.js';

const QUICK_RETRY = { type: 'fixed', delayMs: 10 } as const;

export function stepsSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('runs each completed step once across retries and continues at the failed step', async () => {
    const runs = { sync: 0, analyze: 0, cluster: 0 };
    const progress: string[] = [];
    const pipeline = defineTask('pipeline.steps', {
      maxAttempts: 3,
      backoff: QUICK_RETRY,
      steps: ['sync', 'analyze', 'cluster'],
      handler: async (_payload: null, ctx) => {
        const synced = await ctx.step('sync', () => {
          runs.sync += 1;
          return { tickets: 3, at: new Date(0) };
        });
        const analyzed = await ctx.step('analyze', () => {
          runs.analyze += 1;
          if (ctx.job.attempt === 1) throw new Error('analyzer answered 503');
          return synced.tickets * 2;
        });
        return ctx.step('cluster', () => {
          runs.cluster += 1;
          return { synced, analyzed };
        });
      },
    });
    const client = await harness.client({ tasks: [pipeline] });
    client.events.on('job:progress', ({ message }) => progress.push(message ?? ''));
    const { job } = await client.enqueue(pipeline, null);
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    await client.start(FAST_WORKER);
    await completed;

    assert.deepEqual(runs, { sync: 1, analyze: 2, cluster: 1 });
    const stored = await mustGet(client, job.id);
    assert.equal(stored.status, 'completed');
    assert.equal(stored.attempt, 2);
    // The first run's Date went through JSON, as every later run would read it.
    const synced = { tickets: 3, at: new Date(0).toISOString() };
    assert.deepEqual(stored.result, { synced, analyzed: 6 });
    assert.deepEqual(
      stored.steps.map((step) => [step.name, step.status, step.attempt, step.result]),
      [
        ['sync', 'completed', 1, synced],
        ['analyze', 'completed', 2, 6],
        ['cluster', 'completed', 2, { synced, analyzed: 6 }],
      ],
    );
    assert.deepEqual(progress, ['step 1/3: sync', 'step 2/3: analyze', 'step 2/3: analyze', 'step 3/3: cluster']);
  });

  it('records a failed step with its error until a later attempt completes it', async () => {
    const broken = defineTask('steps.broken', {
      maxAttempts: 1,
      handler: async (_payload: null, ctx) => {
        await ctx.step('fetch', () => 'ok');
        await ctx.step('parse', () => {
          throw new TypeError('unexpected token');
        });
      },
    });
    const client = await harness.client({ tasks: [broken] });
    const { job } = await client.enqueue(broken, null);
    const failed = nextEvent(client, 'job:failed', forJob(job.id));
    await client.start(FAST_WORKER);
    await failed;
    const stored = await mustGet(client, job.id);
    assert.deepEqual(
      stored.steps.map((step) => [step.name, step.status, step.error]),
      [
        ['fetch', 'completed', undefined],
        ['parse', 'failed', { message: 'unexpected token', name: 'TypeError' }],
      ],
    );
    assert.equal(stored.errors[0]?.message, 'unexpected token');
  });

  it('refuses a step name used twice in one run, and results that are not JSON', async () => {
    const errors: unknown[] = [];
    const twice = defineTask('steps.twice', {
      maxAttempts: 1,
      handler: async (_payload: null, ctx) => {
        await ctx.step('same', () => 1);
        await ctx.step('same', () => 2).catch((error) => errors.push(error));
        await ctx.step('function', () => () => 1).catch((error) => errors.push(error));
        await ctx.step('', () => 1).catch((error) => errors.push(error));
      },
    });
    const client = await harness.client({ tasks: [twice] });
    const { job } = await client.enqueue(twice, null);
    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    await client.start(FAST_WORKER);
    await completed;
    assert.equal(errors.length, 3);
    for (const error of errors) assert.ok(error instanceof ValidationError);
    assert.match(String(errors[0]), /already ran in this job/);
    assert.match(String(errors[1]), /not JSON-serializable/);
    assert.deepEqual(
      (await mustGet(client, job.id)).steps.map((step) => step.name),
      ['same'],
    );
  });

  it('sleeps without holding a slot or spending an attempt, then resumes after the sleep', async () => {
    const clock = new FakeClock();
    const runs = { before: 0, after: 0, handler: 0 };
    const patient = defineTask('steps.sleep', {
      maxAttempts: 1,
      handler: async (_payload: null, ctx) => {
        runs.handler += 1;
        await ctx.step('before', () => {
          runs.before += 1;
          return 'sent';
        });
        await ctx.sleep('cool-down', 3_600_000);
        return ctx.step('after', () => {
          runs.after += 1;
          return 'followed up';
        });
      },
    });
    const client = await harness.client({ tasks: [patient], clock });
    const { job } = await client.enqueue(patient, null);
    const released = nextEvent(client, 'job:released', forJob(job.id));
    const claims = watchCalls(harness.store(), 'jobClaim');
    await client.start(FAKE_CLOCK_WORKER);
    const event = await released;
    const wakeAt = new Date(clock.now().getTime() + 3_600_000);
    assert.deepEqual(event.runAt, wakeAt);

    await claims.rounds(3);
    const parked = await mustGet(client, job.id);
    assert.notEqual(parked.status, 'running', 'no slot is held while sleeping');
    assert.equal(parked.attempt, 0, 'the sleep spends no attempt');
    assert.deepEqual(
      parked.steps.map((step) => [step.name, step.status, step.wakeAt]),
      [
        ['before', 'completed', undefined],
        ['cool-down', 'sleeping', wakeAt.toISOString()],
      ],
    );

    const completed = nextEvent(client, 'job:completed', forJob(job.id));
    clock.advance(3_600_000);
    await completed;
    const stored = await mustGet(client, job.id);
    assert.equal(stored.result, 'followed up');
    assert.deepEqual(runs, { handler: 2, before: 1, after: 1 });
    assert.deepEqual(
      stored.steps.map((step) => [step.name, step.status]),
      [
        ['before', 'completed'],
        ['cool-down', 'completed'],
        ['after', 'completed'],
      ],
    );
  });
}
