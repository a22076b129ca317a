import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Jobyard } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import { RATE_LIMIT_PRESETS, resolveServiceOptions, routeRateLimit } from '../../../src/service/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { type Answer, assertProblem, inject, type MakeStore, noop, sendEmail, silentLogger, useService } from './fixtures.js';
import { actAsHeaderPrincipal, as } from './principals.js';

const T0 = '2026-03-01T12:00:00.000Z';
const HOUR_MS = 3_600_000;
const EMAIL = { task: 'email.send', payload: { to: 'ada@example.com' } };

/** assertLimitHeaders checks the IETF draft headers of a limited answer. */
function assertLimitHeaders(answer: Answer, expected: { limit: number; remaining: number; reset: number; policy: string }): void {
  assert.deepEqual(
    {
      limit: Number(answer.headers['ratelimit-limit']),
      remaining: Number(answer.headers['ratelimit-remaining']),
      reset: Number(answer.headers['ratelimit-reset']),
      policy: answer.headers['ratelimit-policy'],
    },
    expected,
    answer.raw,
  );
}

export function rateLimitsSuite(makeStore: MakeStore): void {
  describe('manual triggers, 5 per hour per principal (seed 000)', () => {
    const clock = new FakeClock(T0);
    const service = useService(
      makeStore,
      { rateLimits: [RATE_LIMIT_PRESETS.manualTriggers] },
      { clock, prepare: actAsHeaderPrincipal },
    );
    beforeEach(() => clock.set(T0));
    const enqueue = (principal: string) => service.call('POST', '/api/jobs', { headers: as(principal), payload: EMAIL });

    it('answers the 6th call of the hour 429 with Retry-After and the limit headers, then admits again as units come back', async () => {
      for (let call = 0; call < 5; call++) {
        const answer = await enqueue('ada');
        assert.equal(answer.status, 201, answer.raw);
        // One unit comes back every 720 s; the bucket is whole again 720 s after the last take.
        assertLimitHeaders(answer, { limit: 5, remaining: 4 - call, reset: 720 * (call + 1), policy: '5;w=3600' });
      }
      const refused = await enqueue('ada');
      const body = assertProblem(refused, 429, 'JOBYARD_RATE_LIMITED');
      assert.equal(body.type, 'urn:jobyard:problem:rate-limited');
      assert.match(body.detail, /manual-triggers.*5 per 3600 s.*retry in 720 s/);
      assert.equal(refused.headers['retry-after'], '720');
      assertLimitHeaders(refused, { limit: 5, remaining: 0, reset: 3600, policy: '5;w=3600' });
      assert.equal((await service.client().listJobs({})).jobs.length, 5, 'the refused call enqueued nothing');

      clock.advance(719_000);
      assert.equal((await enqueue('ada')).headers['retry-after'], '1');
      clock.advance(1000);
      assert.equal((await enqueue('ada')).status, 201, 'one unit is back after 720 s');
      assert.equal((await enqueue('ada')).status, 429);

      clock.advance(HOUR_MS);
      const statuses = [];
      for (let call = 0; call < 6; call++) statuses.push((await enqueue('ada')).status);
      assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429], 'a quiet hour gives back all five');
    });

    it('keeps principals apart, and callers without credentials apart by client address', async () => {
      for (let call = 0; call < 5; call++) assert.equal((await enqueue('ada')).status, 201);
      assert.equal((await enqueue('ada')).status, 429);
      const grace = await enqueue('grace');
      assert.equal(grace.status, 201);
      assert.equal(grace.headers['ratelimit-remaining'], '4');
      // A principal id past the store's key bound is hashed into the key, not refused.
      const long = await enqueue('x'.repeat(2000));
      assert.equal(long.status, 201, long.raw);
      assert.equal(long.headers['ratelimit-remaining'], '4');

      const anonymous = (remoteAddress: string) => service.call('POST', '/api/jobs', { payload: EMAIL, remoteAddress });
      for (let call = 0; call < 5; call++) assert.equal((await anonymous('10.0.0.1')).status, 201);
      assert.equal((await anonymous('10.0.0.1')).status, 429);
      assert.equal((await anonymous('10.0.0.2')).status, 201);
    });

    it('counts running a schedule now and enqueueing in one bucket', async () => {
      await service.scheduler().schedule('nightly', { task: 'noop', trigger: { kind: 'every', everyMs: HOUR_MS } });
      const run = () => service.call('POST', '/api/schedules/nightly/run', { headers: as('ada') });
      assert.equal((await run()).status, 200);
      for (let call = 0; call < 4; call++) assert.equal((await enqueue('ada')).status, 201);
      assertProblem(await run(), 429, 'JOBYARD_RATE_LIMITED');
      assertProblem(await enqueue('ada'), 429, 'JOBYARD_RATE_LIMITED');
    });

    it('leaves other actions alone, and spends nothing on malformed calls', async () => {
      const list = await service.call('GET', '/api/jobs', { headers: as('ada') });
      assert.equal(list.status, 200);
      assert.equal(list.headers['ratelimit-limit'], undefined);
      for (let call = 0; call < 10; call++) {
        assertProblem(await service.call('POST', '/api/jobs', { headers: as('ada'), payload: { task: 42 } }), 400);
      }
      assert.equal((await enqueue('ada')).headers['ratelimit-remaining'], '4');
    });

    it('documents the 429 answer on limited routes only', async () => {
      const document = (await service.call('GET', '/openapi.json')).body;
      assert.ok(document.paths['/api/jobs'].post.responses['429']);
      assert.ok(document.paths['/api/schedules/{id}/run'].post.responses['429']);
      assert.equal(document.paths['/api/jobs'].get.responses['429'], undefined);
      assert.equal(document.paths['/api/jobs/{id}/cancel'].post.responses['429'], undefined);
    });
  });

  describe('rules per task and scope', () => {
    const clock = new FakeClock(T0);
    const service = useService(
      makeStore,
      {
        rateLimits: [
          { action: 'jobs.enqueue', task: 'email.send', limit: 2, windowMs: 60_000 },
          { name: 'cancels', action: 'jobs.cancel', limit: 1, windowMs: 60_000, scope: 'global' },
          { name: 'retries', action: 'jobs.retry', limit: 1, windowMs: 60_000, scope: 'client' },
        ],
      },
      { clock, prepare: actAsHeaderPrincipal },
    );
    beforeEach(() => clock.set(T0));

    it('counts only the enqueues of the named task', async () => {
      const email = () => service.call('POST', '/api/jobs', { headers: as('ada'), payload: EMAIL });
      const other = () => service.call('POST', '/api/jobs', { headers: as('ada'), payload: { task: 'noop' } });
      assert.deepEqual([(await email()).status, (await email()).status, (await email()).status], [201, 201, 429]);
      const unlimited = await other();
      assert.equal(unlimited.status, 201);
      assert.equal(unlimited.headers['ratelimit-limit'], undefined);
      assert.match(assertProblem(await email(), 429).detail, /"jobs\.enqueue\[email\.send\]" of 2 per 60 s/);
      clock.advance(30_000);
      assert.equal((await email()).status, 201, 'a unit is back every 30 s');
    });

    it('shares a global bucket among principals, and a client bucket among principals of one address', async () => {
      const { job: first } = await service.client().enqueue(noop, null);
      const { job: second } = await service.client().enqueue(noop, null);
      assert.equal((await service.call('POST', `/api/jobs/${first.id}/cancel`, { headers: as('ada') })).status, 200);
      assertProblem(await service.call('POST', `/api/jobs/${second.id}/cancel`, { headers: as('grace') }), 429);

      const retry = (principal: string, remoteAddress: string) =>
        service.call('POST', `/api/jobs/${first.id}/retry`, { headers: as(principal), remoteAddress });
      assert.equal((await retry('ada', '10.0.0.1')).status, 200);
      assertProblem(await retry('grace', '10.0.0.1'), 429);
      // Another address has a bucket of its own: the call reaches the route (409: the job is available again).
      assertProblem(await retry('ada', '10.0.0.2'), 409);
    });
  });

  describe('an app route limited per user with routeRateLimit (seed 003)', () => {
    const clock = new FakeClock(T0);
    let current: { app: FastifyInstance; client: Jobyard; cleanup: () => Promise<void> } | undefined;
    beforeEach(async () => {
      clock.set(T0);
      const { store, cleanup } = await makeStore();
      const client = new Jobyard({ store, tasks: [sendEmail, noop], logger: silentLogger, clock });
      const app = Fastify({ loggerInstance: silentLogger }) as unknown as FastifyInstance;
      const refreshLimit = routeRateLimit({
        ...RATE_LIMIT_PRESETS.userRefresh,
        client,
        name: 'projects.refresh',
        key: (request) => (request.headers['x-user'] as string | undefined) ?? null,
      });
      app.post<{ Params: { id: string } }>('/projects/:id/refresh', { preHandler: refreshLimit }, async (request, reply) => {
        const { job } = await client.enqueue(noop, { project: request.params.id });
        return reply.code(202).send({ jobId: job.id });
      });
      await app.ready();
      current = { app, client, cleanup };
    });
    afterEach(async () => {
      await current?.app.close();
      await current?.client.close();
      await current?.cleanup();
      current = undefined;
    });
    const refresh = (user?: string) => {
      assert.ok(current);
      return inject(current.app, { method: 'POST', url: '/projects/p1/refresh', headers: user ? { 'x-user': user } : {} });
    };

    it('admits 5 refreshes per user per 300 s, answers 429 problem JSON, and admits again after the window', async () => {
      for (let call = 0; call < 5; call++) {
        const answer = await refresh('ada');
        assert.equal(answer.status, 202, answer.raw);
        assertLimitHeaders(answer, { limit: 5, remaining: 4 - call, reset: 60 * (call + 1), policy: '5;w=300' });
      }
      const refused = await refresh('ada');
      assertProblem(refused, 429, 'JOBYARD_RATE_LIMITED');
      assert.equal(refused.headers['retry-after'], '60');
      assert.equal((await refresh('grace')).status, 202, 'another user has a bucket of its own');
      assert.equal((await refresh()).status, 202, 'a request the key function leaves out is not counted');
      assert.equal(await current?.client.listJobs({}).then((page) => page.jobs.length), 7);
      clock.advance(300_000);
      for (let call = 0; call < 5; call++) assert.equal((await refresh('ada')).status, 202);
    });

    it('refuses bad options when built', () => {
      assert.ok(current);
      const { client } = current;
      assert.throws(
        () => routeRateLimit({ client, name: '', limit: 0, windowMs: 1.5 }),
        (error: unknown) =>
          error instanceof ValidationError &&
          ['name', 'limit', 'windowMs'].every((path) => error.issues.some((issue) => issue.path === path)),
      );
    });
  });

  describe('rateLimits option', () => {
    const service = useService(makeStore);

    it('refuses malformed rules, naming each field', () => {
      const client = service.client();
      const expectIssues = (rateLimits: unknown, paths: string[]) =>
        assert.throws(
          () => resolveServiceOptions({ client, rateLimits: rateLimits as never }),
          (error: unknown) =>
            error instanceof ValidationError && paths.every((path) => error.issues.some((issue) => issue.path === path)),
          JSON.stringify(rateLimits),
        );
      expectIssues('5 per hour', ['rateLimits']);
      expectIssues([{ action: 'jobs.enqueue' }], ['rateLimits.0.limit', 'rateLimits.0.windowMs']);
      expectIssues(
        [{ action: [], limit: 0, windowMs: -1, scope: 'team' }],
        ['rateLimits.0.action', 'rateLimits.0.limit', 'rateLimits.0.windowMs', 'rateLimits.0.scope'],
      );
      expectIssues([{ action: 'schedules.run', task: 'email.send', limit: 1, windowMs: 1000 }], ['rateLimits.0.task']);
      expectIssues(
        [
          { action: 'jobs.enqueue', limit: 1, windowMs: 1000 },
          { action: 'jobs.enqueue', limit: 2, windowMs: 1000 },
        ],
        ['rateLimits.1.name'],
      );
      const resolved = resolveServiceOptions({ client, rateLimits: [RATE_LIMIT_PRESETS.manualTriggers] });
      assert.equal(resolved.rateLimits[0]?.scope, 'principal');
      assert.deepEqual(resolveServiceOptions({ client }).rateLimits, []);
    });
  });
}
