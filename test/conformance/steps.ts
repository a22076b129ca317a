import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uuidv7 } from 'uuidv7';
import type { JobStep } from '../../src/types/index.js';
import { claimOne, insertJob, later, type MakeStore, mustGet, settle, useFreshStore } from './fixtures.js';

function step(name: string, fields: Partial<JobStep> = {}): JobStep {
  return {
    name,
    status: 'completed',
    attempt: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    result: { name },
    ...fields,
  };
}

export function stepsSuite(makeStore: MakeStore): void {
  const store = useFreshStore(makeStore);

  it('a new job has no steps; saved steps read back in the order they were first saved', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    assert.deepEqual((await mustGet(store(), job.id)).steps, []);
    const { leaseToken } = await claimOne(store(), now);
    const steps = [step('sync'), step('analyze', { result: [1, 'two', { three: null }] }), step('cluster')];
    for (const saved of steps) assert.equal(await store().jobStepSave({ id: job.id, leaseToken, step: saved }), true);
    assert.deepEqual((await mustGet(store(), job.id)).steps, steps);
  });

  it('saving a step of an existing name replaces it in place', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const { leaseToken } = await claimOne(store(), now);
    await store().jobStepSave({ id: job.id, leaseToken, step: step('a') });
    await store().jobStepSave({ id: job.id, leaseToken, step: step('b', { status: 'failed', error: { message: 'boom' } }) });
    await store().jobStepSave({ id: job.id, leaseToken, step: step('c') });
    const retried = step('b', { attempt: 2, result: 'ok' });
    await store().jobStepSave({ id: job.id, leaseToken, step: retried });
    assert.deepEqual((await mustGet(store(), job.id)).steps, [step('a'), retried, step('c')]);
  });

  it('is fenced by the lease: a wrong token, a finished job or an unknown id writes nothing', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const claimed = await claimOne(store(), now);
    assert.equal(await store().jobStepSave({ id: job.id, leaseToken: uuidv7(), step: step('x') }), false);
    assert.equal(await store().jobStepSave({ id: uuidv7(), leaseToken: claimed.leaseToken, step: step('x') }), false);
    assert.equal(await store().jobStepSave({ id: job.id, leaseToken: 'not-a-token', step: step('x') }), false);
    assert.equal(await settle(store(), claimed, { kind: 'completed', result: null }, now), true);
    assert.equal(await store().jobStepSave({ id: job.id, leaseToken: claimed.leaseToken, step: step('x') }), false);
    assert.deepEqual((await mustGet(store(), job.id)).steps, []);
  });

  it('steps survive a release and the next claim returns them', async () => {
    const now = new Date();
    const job = await insertJob(store(), now);
    const first = await claimOne(store(), now);
    const sleeping = step('wait', {
      status: 'sleeping',
      finishedAt: null,
      result: undefined,
      wakeAt: later(now, 50).toISOString(),
    });
    delete sleeping.result;
    await store().jobStepSave({ id: job.id, leaseToken: first.leaseToken, step: sleeping });
    assert.equal(await settle(store(), first, { kind: 'released', runAt: later(now, 50) }, now), true);
    const second = await claimOne(store(), later(now, 60));
    assert.equal(second.job.id, job.id);
    assert.deepEqual(second.job.steps, [sleeping]);
  });
}
