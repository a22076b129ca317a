import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertFieldError, assertProblem, type MakeStore, useService } from './fixtures.js';

export function healthErrorsSuite(makeStore: MakeStore): void {
  const service = useService(makeStore, { bodyLimit: 64 * 1024 });

  it('answers liveness and readiness', async () => {
    const live = await service.call('GET', '/health');
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { status: 'ok' });
    const ready = await service.call('GET', '/health/ready');
    assert.equal(ready.status, 200, ready.raw);
    assert.equal(ready.body.status, 'ready');
    assert.deepEqual(ready.body.reasons, []);
    assert.equal(ready.body.checks[0].name, 'store');
    assert.equal(ready.body.checks[0].ok, true);
  });

  it('is not ready (503, with the reason) once its store is closed, and still alive', async () => {
    await service.client().close();
    const ready = await service.call('GET', '/health/ready');
    assert.equal(ready.status, 503, ready.raw);
    assert.equal(ready.body.status, 'not ready');
    assert.match(ready.body.reasons[0], /^store: /);
    assert.equal(ready.body.checks[0].ok, false);
    assert.equal((await service.call('GET', '/health')).status, 200);
  });

  it('answers unknown routes and methods with a problem 404', async () => {
    const problem = assertProblem(await service.call('GET', '/api/nothing-here'), 404, 'JOBYARD_ROUTE_NOT_FOUND');
    assert.match(problem.detail, /GET \/api\/nothing-here/);
    assertProblem(await service.call('DELETE', '/api/jobs'), 404, 'JOBYARD_ROUTE_NOT_FOUND');
    assertProblem(await service.call('GET', '/'), 404, 'JOBYARD_ROUTE_NOT_FOUND');
  });

  it('answers malformed, oversized and unsupported bodies with 4xx problems', async () => {
    const json = { 'content-type': 'application/json' };
    assertProblem(await service.call('POST', '/api/jobs', { payload: '{"task":', headers: json }), 400, 'JOBYARD_BAD_REQUEST');
    assertProblem(
      await service.call('POST', '/api/jobs', { payload: '{"__proto__":{"x":1}}', headers: json }),
      400,
      'JOBYARD_BAD_REQUEST',
    );
    const huge = { task: 'noop', payload: 'x'.repeat(64 * 1024) };
    assertProblem(await service.call('POST', '/api/jobs', { payload: huge }), 413, 'JOBYARD_PAYLOAD_TOO_LARGE');
    assertProblem(
      await service.call('POST', '/api/jobs', { payload: '<job/>', headers: { 'content-type': 'application/xml' } }),
      415,
      'JOBYARD_UNSUPPORTED_MEDIA_TYPE',
    );
    assertProblem(
      await service.call('POST', '/api/jobs', { payload: 'task=noop', headers: { 'content-type': 'text/plain' } }),
      400,
      'JOBYARD_VALIDATION',
    );
  });

  it('refuses text that a store cannot keep, and nesting past 64 levels, with 400 on every store', async () => {
    const post = (payload: unknown) => service.call('POST', '/api/jobs', { payload: { task: 'noop', payload } });
    assertFieldError(assertProblem(await post({ note: 'a\u0000b' }), 400, 'JOBYARD_VALIDATION'), 'payload.note');
    assertFieldError(assertProblem(await post({ note: 'lone \ud800 surrogate' }), 400), 'payload.note');
    assertProblem(await post({ 'key\u0000': 1 }), 400, 'JOBYARD_VALIDATION');
    let deep: unknown = 'bottom';
    for (let level = 0; level < 70; level += 1) deep = [deep];
    assertProblem(await post(deep), 400, 'JOBYARD_VALIDATION');
    const paired = await post({ note: 'emoji \ud83d\ude00 is fine' });
    assert.equal(paired.status, 201, paired.raw);
    assert.equal(paired.body.payload.note, 'emoji 😀 is fine');
  });
}
