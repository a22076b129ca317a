import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { Jobyard } from '../../../src/core/index.js';
import { ValidationError } from '../../../src/errors/index.js';
import { RATE_LIMIT_PRESETS, resolveServiceOptions, routeRateLimit } from '../../../src/service/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import {
  ADMIN_TOKEN,
  type Answer,
  assertProblem,
  bearer,
  createCaller,
  inject,
  type MakeStore,
  NO_CREDENTIALS,
  noop,
  sendEmail,
  silentLogger,
  useCallers,
  useService,
} from './fixtures.js';

const T0 = '2026-03-01T12:00:00.000Z';
const HOUR_MS = 3_600_000;
const EMAIL = { task: 'email.send', payload: { to: 'ada@example.com' } };
const JWT_SECRET = 'a-rate-limit-test-secret-of-32-bytes-or-more';

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
      { rateLimits: [RATE_LIMIT_PRESETS.manualTriggers], auth: { devToken: ADMIN_TOKEN, jwt: { secret: JWT_SECRET } } },
      { clock },
    );
    const callers = useCallers(service, { ada: 'operator', grace: 'operator' }, () => clock.set(T0));
    const enqueue = (headers: Record<string, string>, remoteAddress?: string) =>
      service.call('POST', '/api/jobs', { headers, payload: EMAIL, remoteAddress });

    it('answers the 6th call of the hour 429 with Retry-After and the limit headers, then admits again as units come back', async () => {
      for (let call = 0; call < 5; call++) {
        const answer = await enqueue(callers.ada.headers);
        assert.equal(answer.status, 201, answer.raw);
        // One unit comes back every 720 s; the bucket is whole again 720 s after the last take.
        assertLimitHeaders(answer, { limit: 5, remaining: 4 - call, reset: 720 * (call + 1), policy: '5;w=3600' });
      }
      const refused = await enqueue(callers.ada.headers);
      const body = assertProblem(refused, 429, 'JOBYARD_RATE_LIMITED');
      assert.equal(body.type, 'urn:jobyard:problem:rate-limited');
      assert.match(body.detail, /manual-triggers.*5 per 3600 s.*retry in 720 s/);
      assert.equal(refused.headers['retry-after'], '720');
      assertLimitHeaders(refused, { limit: 5, remaining: 0, reset: 3600, policy: '5;w=3600' });
      assert.equal((await service.client().listJobs({})).jobs.length, 5, 'the refused call enqueued nothing');

      clock.advance(719_000);
      assert.equal((await enqueue(callers.ada.headers)).headers['retry-after'], '1');
      clock.advance(1000);
      assert.equal((await enqueue(callers.ada.headers)).status, 201, 'one unit is back after 720 s');
      assert.equal((await enqueue(callers.ada.headers)).status, 429);

      clock.advance(HOUR_MS);
      const statuses = [];
      for (let call = 0; call < 6; call++) statuses.push((await enqueue(callers.ada.headers)).status);
      assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429], 'a quiet hour gives back all five');
    });

    it('keeps principals apart (API keys, JWT subjects, the dev token), whatever their address', async () => {
      // Every caller comes from one address, so a bucket per address would merge them all.
      for (let call = 0; call < 5; call++) assert.equal((await enqueue(callers.ada.headers, '10.0.0.1')).status, 201);
      assertProblem(await enqueue(callers.ada.headers, '10.0.0.1'), 429, 'JOBYARD_RATE_LIMITED');
      // A principal keeps its bucket on another address.
      assertProblem(await enqueue(callers.ada.headers, '10.0.0.2'), 429, 'JOBYARD_RATE_LIMITED');
      for (const [caller, headers] of [
        ['grace', callers.grace.headers],
        ['the dev token', bearer(ADMIN_TOKEN)],
        ['a JWT subject', bearer(await signJwt('user-7'))],
        // A subject past the store's key bound is hashed into the key, not refused.
        ['a long JWT subject', bearer(await signJwt('x'.repeat(2000)))],
        ['another long JWT subject', bearer(await signJwt(`${'x'.repeat(1999)}y`))],
      ] as const) {
        const answer = await enqueue(headers, '10.0.0.1');
        assert.equal(answer.status, 201, `${caller}: ${answer.raw}`);
        assert.equal(answer.headers['ratelimit-remaining'], '4', caller);
      }
      const again = await enqueue(bearer(await signJwt('user-7')), '10.0.0.3');
      assert.equal(again.headers['ratelimit-remaining'], '3', 'a JWT subject is one principal, whatever the token');
    });

    it('refuses callers without valid credentials (401) or role (403) before any bucket, spending nothing', async () => {
      const viewer = await createCaller(service, 'grafana', 'viewer');
      for (let call = 0; call < 6; call++) {
        assertProblem(await enqueue(NO_CREDENTIALS), 401, 'JOBYARD_UNAUTHENTICATED');
        assertProblem(await enqueue(bearer(`jy_${'A'.repeat(43)}`)), 401, 'JOBYARD_UNAUTHENTICATED');
        assertProblem(await enqueue(viewer.headers), 403, 'JOBYARD_FORBIDDEN');
      }
      const admitted = await enqueue(callers.ada.headers);
      assert.equal(admitted.status, 201);
      assert.equal(admitted.headers['ratelimit-remaining'], '4');
    });

    it('counts running a schedule now and enqueueing in one bucket', async () => {
      await service.scheduler().schedule('nightly', { task: 'noop', trigger: { kind: 'every', everyMs: HOUR_MS } });
      const root = await createCaller(service, 'root', 'admin');
      const run = () => service.call('POST', '/api/schedules/nightly/run', { headers: root.headers });
      assert.equal((await run()).status, 200);
      for (let call = 0; call < 4; call++) assert.equal((await enqueue(root.headers)).status, 201);
      assertProblem(await run(), 429, 'JOBYARD_RATE_LIMITED');
      assertProblem(await enqueue(root.headers), 429, 'JOBYARD_RATE_LIMITED');
      assert.equal((await enqueue(callers.ada.headers)).status, 201, 'another principal has a bucket of its own');
    });

    it('leaves other actions alone, and spends nothing on malformed calls', async () => {
      const list = await service.call('GET', '/api/jobs', { headers: callers.ada.headers });
      assert.equal(list.status, 200);
      assert.equal(list.headers['ratelimit-limit'], undefined);
      for (let call = 0; call < 10; call++) {
        assertProblem(await service.call('POST', '/api/jobs', { headers: callers.ada.headers, payload: { task: 42 } }), 400);
      }
      assert.equal((await enqueue(callers.ada.headers)).headers['ratelimit-remaining'], '4');
    });

    it('documents the 429 answer on limited routes only', async () => {
      const document = (await service.call('GET', '/openapi.json')).body;
      assert.ok(document.paths['/api/jobs'].post.responses['429']);
      assert.ok(document.paths['/api/schedules/{id}/run'].post.responses['429']);
      assert.equal(document.paths['/api/jobs'].get.responses['429'], undefined);
      assert.equal(document.paths['/api/jobs/{id}/cancel'].post.responses['429'], undefined);
    });
  });

  describe('with auth off', () => {
    const clock = new FakeClock(T0);
    const service = useService(makeStore, { rateLimits: [RATE_LIMIT_PRESETS.manualTriggers], auth: false }, { clock });
    beforeEach(() => clock.set(T0));

    it('counts the anonymous callers per client address', async () => {
      const enqueue = (remoteAddress: string) =>
        service.call('POST', '/api/jobs', { headers: NO_CREDENTIALS, payload: EMAIL, remoteAddress });
      for (let call = 0; call < 5; call++) assert.equal((await enqueue('10.0.0.1')).status, 201);
      assertProblem(await enqueue('10.0.0.1'), 429, 'JOBYARD_RATE_LIMITED');
      const other = await enqueue('10.0.0.2');
      assert.equal(other.status, 201, other.raw);
      assert.equal(other.headers['ratelimit-remaining'], '4');
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
      { clock },
    );
    const callers = useCallers(service, { ada: 'operator', grace: 'operator' }, () => clock.set(T0));

    it('counts only the enqueues of the named task, per principal', async () => {
      const email = (caller = callers.ada) => service.call('POST', '/api/jobs', { headers: caller.headers, payload: EMAIL });
      const other = () => service.call('POST', '/api/jobs', { headers: callers.ada.headers, payload: { task: 'noop' } });
      assert.deepEqual([(await email()).status, (await email()).status, (await email()).status], [201, 201, 429]);
      const unlimited = await other();
      assert.equal(unlimited.status, 201);
      assert.equal(unlimited.headers['ratelimit-limit'], undefined);
      assert.match(assertProblem(await email(), 429).detail, /"jobs\.enqueue\[email\.send\]" of 2 per 60 s/);
      assert.equal((await email(callers.grace)).status, 201, 'another principal has a bucket of its own');
      clock.advance(30_000);
      assert.equal((await email()).status, 201, 'a unit is back every 30 s');
    });

    it('shares a global bucket among principals, and a client bucket among principals of one address', async () => {
      const { job: first } = await service.client().enqueue(noop, null);
      const { job: second } = await service.client().enqueue(noop, null);
      assert.equal((await service.call('POST', `/api/jobs/${first.id}/cancel`, { headers: callers.ada.headers })).status, 200);
      assertProblem(await service.call('POST', `/api/jobs/${second.id}/cancel`, { headers: callers.grace.headers }), 429);

      const retry = (headers: Record<string, string>, remoteAddress: string) =>
        service.call('POST', `/api/jobs/${first.id}/retry`, { headers, remoteAddress });
      // Refused by auth first, these spend nothing of the address's bucket.
      const viewer = await createCaller(service, 'grafana', 'viewer');
      assertProblem(await retry(NO_CREDENTIALS, '10.0.0.1'), 401);
      assertProblem(await retry(viewer.headers, '10.0.0.1'), 403);
      assert.equal((await retry(callers.ada.headers, '10.0.0.1')).status, 200);
      assertProblem(await retry(callers.grace.headers, '10.0.0.1'), 429);
      // Another address has a bucket of its own: the call reaches the route (409: the job is available again).
      assertProblem(await retry(callers.ada.headers, '10.0.0.2'), 409);
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

/**
 * signJwt signs a new HS256 JWT (its own `jti`) for `sub` with the operator role; without
 * `exp`, the fake clock's time does not matter.
 */
function signJwt(sub: string): Promise<string> {
  return new SignJWT({ sub, role: 'operator', jti: randomUUID() })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(JWT_SECRET));
}
