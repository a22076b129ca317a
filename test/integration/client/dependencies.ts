import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import { defineTask } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import { FAST_WORKER, forJob, type MakeStore, mustGet, nextEvent, useHarness } from './fixtures.js';

export function dependenciesSuite(makeStore: MakeStore): void {
  const harness = useHarness(makeStore);

  it('runs a fan-out/fan-in flow in dependency order; the join reads its parents’ results', async () => {
    const started: string[] = [];
    const step = defineTask('flow.step', {
      handler: async ({ name }: { name: string }, { parents }) => {
        started.push(name);
        const inputs = (await parents()).map((parent) => parent.result as string);
        return `${name}(${inputs.join(',')})`;
      },
    });
    const client = await harness.client({ tasks: [step] });
    const flow = await client.enqueueFlow([
      { key: 'join', task: step, payload: { name: 'join' }, options: { dependsOn: ['left', 'right'] } },
      { key: 'left', task: step, payload: { name: 'left' }, options: { dependsOn: ['root'] } },
      { key: 'right', task: step, payload: { name: 'right' }, options: { dependsOn: ['root'] } },
      { key: 'root', task: 'flow.step', payload: { name: 'root' } },
    ]);
    const join = flow.join?.job;
    assert.ok(join);
    assert.deepEqual(join.dependsOn, [flow.left?.job.id, flow.right?.job.id]);
    const completed = nextEvent(client, 'job:completed', forJob(join.id));
    await client.start({ ...FAST_WORKER, concurrency: 4 });
    await completed;

    assert.equal(started[0], 'root');
    assert.equal(started[3], 'join');
    assert.equal((await mustGet(client, join.id)).result, 'join(left(root()),right(root()))');
  });

  it('cancels the waiting children of a job that fails for good, unless they run anyway', async () => {
    const failing = defineTask('flow.fails', {
      maxAttempts: 1,
      handler: () => {
        throw new Error('upstream gone');
      },
    });
    const after = defineTask('flow.after', { handler: () => 'ran' });
    const client = await harness.client({ tasks: [failing, after] });
    const { job: parent } = await client.enqueue(failing, null);
    const { job: cancelled } = await client.enqueue(after, null, { dependsOn: [parent.id] });
    const { job: runs } = await client.enqueue(after, null, { dependsOn: [parent.id], onParentFailure: 'run' });
    const ran = nextEvent(client, 'job:completed', forJob(runs.id));
    await client.start(FAST_WORKER);
    await ran;
    const stored = await mustGet(client, cancelled.id);
    assert.equal(stored.status, 'cancelled');
    assert.equal(stored.errors[0]?.message, `parent job ${parent.id} failed`);
  });

  it('refuses a cycle, an unknown parent or a parent with a delay: nothing of the flow is stored', async () => {
    const noop = defineTask('flow.noop', { handler: () => null });
    const client = await harness.client({ tasks: [noop] });
    await assert.rejects(
      client.enqueueFlow([
        { key: 'a', task: noop, options: { dependsOn: ['c'] } },
        { key: 'b', task: noop, options: { dependsOn: ['a'] } },
        { key: 'c', task: noop, options: { dependsOn: ['b'] } },
        { key: 'free', task: noop },
      ]),
      (error) => error instanceof ValidationError && /dependency cycle: a -> c -> b -> a/.test(error.message),
    );
    const unknown = uuidv7();
    await assert.rejects(
      client.enqueueFlow([
        { key: 'a', task: noop },
        { key: 'b', task: noop, options: { dependsOn: ['a', unknown] } },
      ]),
      (error) => error instanceof ValidationError && error.message.includes(unknown),
    );
    await assert.rejects(
      client.enqueueFlow([{ key: 'a', task: noop, options: { dependsOn: ['typo'] } }]),
      (error) => error instanceof ValidationError && error.issues.some((issue) => issue.path === 'jobs.0.dependsOn.0'),
    );
    await assert.rejects(client.enqueue(noop, null, { dependsOn: [uuidv7()], delayMs: 10 }), ValidationError);
    assert.deepEqual((await client.listJobs()).jobs, []);
  });
}
