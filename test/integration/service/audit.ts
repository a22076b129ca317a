import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../src/errors/index.js';
import {
  createServer,
  pruneServiceRecords,
  resolveServiceOptions,
  revokeApiToken,
  ServicePruner,
} from '../../../src/service/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import {
  assertFieldError,
  assertProblem,
  type Caller,
  type MakeStore,
  NO_CREDENTIALS,
  noop,
  silentLogger,
  useCallers,
  useService,
} from './fixtures.js';

const T0 = '2026-03-01T12:00:00.000Z';
const DAY_MS = 24 * 3600 * 1000;
const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';
const EMAIL = { task: 'email.send', payload: { to: 'ada@example.com' } };

export function auditSuite(makeStore: MakeStore): void {
  const clock = new FakeClock(T0);
  const service = useService(
    makeStore,
    { rateLimits: [{ action: 'jobs.retry', limit: 1, windowMs: 60_000 }], audit: { pruneIntervalMs: null } },
    { clock },
  );
  // Distinct principals with real API keys: two operators, a viewer, an admin.
  const callers = useCallers(service, { ada: 'operator', grace: 'operator', eve: 'viewer', root: 'admin' }, () => clock.set(T0));

  /** audit lists the audit log over HTTP with a query string, as an admin. */
  const audit = async (query = '') => {
    const answer = await service.call('GET', `/api/audit${query}`, { headers: callers.root.headers });
    assert.equal(answer.status, 200, answer.raw);
    return answer.body as { entries: any[]; nextCursor: string | null };
  };

  it('records a successful enqueue with when, who, the new job as target, the outcome, request id and address', async () => {
    const created = await service.call('POST', '/api/jobs', {
      headers: callers.ada.headers,
      payload: EMAIL,
      remoteAddress: '10.1.2.3',
    });
    assert.equal(created.status, 201);
    // The entry exists as soon as the answer does: it was written before the answer left.
    const { entries, nextCursor } = await audit();
    assert.equal(nextCursor, null);
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.match(entry.id, /^[1-9][0-9]*$/);
    assert.match(entry.requestId, /\S/);
    assert.deepEqual(entry, {
      id: entry.id,
      at: T0,
      principal: { id: callers.ada.id, name: 'ada', role: 'operator' },
      action: 'jobs.enqueue',
      target: created.body.id,
      outcome: 'success',
      status: 201,
      requestId: entry.requestId,
      clientAddress: '10.1.2.3',
    });
  });

  it('records failures (400, 404, 409) as errors, with the target from the path', async () => {
    const { job } = await service.client().enqueue(noop, null);
    assertProblem(await service.call('POST', '/api/jobs', { headers: callers.ada.headers, payload: { task: 42 } }), 400);
    assertProblem(await service.call('POST', `/api/jobs/${UNKNOWN_ID}/cancel`, { headers: callers.ada.headers }), 404);
    assertProblem(await service.call('POST', `/api/jobs/${job.id}/retry`, { headers: callers.ada.headers }), 409);
    const { entries } = await audit();
    assert.deepEqual(
      entries.map(({ action, target, outcome, status }) => ({ action, target, outcome, status })),
      [
        { action: 'jobs.retry', target: job.id, outcome: 'error', status: 409 },
        { action: 'jobs.cancel', target: UNKNOWN_ID, outcome: 'error', status: 404 },
        { action: 'jobs.enqueue', target: null, outcome: 'error', status: 400 },
      ],
    );
  });

  it('records calls refused by authentication (401 as anonymous, 403 as the caller) and by rate limits (429) as denied', async () => {
    const { job } = await service.client().enqueue(noop, null);
    await service.client().cancel(job.id);
    assertProblem(
      await service.call('POST', '/api/jobs', { headers: NO_CREDENTIALS, payload: EMAIL }),
      401,
      'JOBYARD_UNAUTHENTICATED',
    );
    await revokeApiToken(service.client().store, callers.ada.id);
    assertProblem(await service.call('POST', '/api/jobs', { headers: callers.ada.headers, payload: EMAIL }), 401);
    assertProblem(
      await service.call('POST', `/api/jobs/${job.id}/cancel`, { headers: callers.eve.headers }),
      403,
      'JOBYARD_FORBIDDEN',
    );
    assert.equal((await service.call('POST', `/api/jobs/${job.id}/retry`, { headers: callers.grace.headers })).status, 200);
    assertProblem(await service.call('POST', `/api/jobs/${job.id}/retry`, { headers: callers.grace.headers }), 429);
    const { entries } = await audit('?outcome=denied');
    assert.deepEqual(
      entries.map(({ principal, action, target, status }) => ({ principal, action, target, status })),
      [
        {
          principal: { id: callers.grace.id, name: 'grace', role: 'operator' },
          action: 'jobs.retry',
          target: job.id,
          status: 429,
        },
        { principal: { id: callers.eve.id, name: 'eve', role: 'viewer' }, action: 'jobs.cancel', target: job.id, status: 403 },
        // A revoked key proves no one: its call is the anonymous caller's, like one without credentials.
        { principal: { id: 'anonymous', name: 'anonymous', role: null }, action: 'jobs.enqueue', target: null, status: 401 },
        { principal: { id: 'anonymous', name: 'anonymous', role: null }, action: 'jobs.enqueue', target: null, status: 401 },
      ],
    );
  });

  it('records mutating calls only, and schedule calls by schedule id', async () => {
    await service.scheduler().schedule('nightly', { task: 'noop', trigger: { kind: 'cron', expression: '0 2 * * *' } });
    await service.call('GET', '/api/jobs', { headers: callers.ada.headers });
    await service.call('GET', '/api/schedules/nightly', { headers: callers.ada.headers });
    await service.call('POST', '/api/schedules/preview', {
      headers: callers.ada.headers,
      payload: { trigger: { kind: 'cron', expression: '0 2 * * *' } },
    });
    assert.deepEqual((await audit()).entries, [], 'reads are not recorded (the audit list itself neither)');
    assert.equal((await service.call('POST', '/api/schedules/nightly/pause', { headers: callers.root.headers })).status, 200);
    assert.equal((await service.call('POST', '/api/schedules/nightly/run', { headers: callers.root.headers })).status, 200);
    assert.deepEqual(
      (await audit()).entries.map(({ action, target, principal }) => [action, target, principal.id]),
      [
        ['schedules.run', 'nightly', callers.root.id],
        ['schedules.pause', 'nightly', callers.root.id],
      ],
    );
  });

  it('filters by principal, action, target, outcome and time range, and pages newest first', async () => {
    const { job } = await service.client().enqueue(noop, null);
    const calls: [Caller, string, number][] = [
      [callers.ada, `/api/jobs/${job.id}/cancel`, 200],
      [callers.grace, `/api/jobs/${job.id}/cancel`, 409],
      [callers.ada, `/api/jobs/${UNKNOWN_ID}/cancel`, 404],
      [callers.grace, `/api/jobs/${job.id}/retry`, 200],
      [callers.ada, `/api/jobs/${job.id}/cancel`, 200],
    ];
    for (const [caller, url, status] of calls) {
      assert.equal((await service.call('POST', url, { headers: caller.headers })).status, status, url);
      clock.advance(60_000);
    }
    const names = new Map([callers.ada, callers.grace].map((caller) => [caller.id, caller.name]));
    const summary = (entries: any[]) =>
      entries.map((entry) => `${names.get(entry.principal.id)} ${entry.action} ${entry.status}`);
    assert.deepEqual(summary((await audit(`?principal=${callers.ada.id}`)).entries), [
      'ada jobs.cancel 200',
      'ada jobs.cancel 404',
      'ada jobs.cancel 200',
    ]);
    assert.deepEqual(summary((await audit('?action=jobs.retry')).entries), ['grace jobs.retry 200']);
    assert.deepEqual(summary((await audit(`?target=${UNKNOWN_ID}`)).entries), ['ada jobs.cancel 404']);
    assert.deepEqual(summary((await audit('?outcome=error')).entries), ['ada jobs.cancel 404', 'grace jobs.cancel 409']);
    const from = encodeURIComponent('2026-03-01T13:01:00+01:00');
    const to = encodeURIComponent('2026-03-01T12:04:00Z');
    assert.deepEqual(summary((await audit(`?from=${from}&to=${to}`)).entries), [
      'grace jobs.retry 200',
      'ada jobs.cancel 404',
      'grace jobs.cancel 409',
    ]);
    assert.deepEqual(summary((await audit(`?principal=${callers.grace.id}&action=jobs.cancel`)).entries), [
      'grace jobs.cancel 409',
    ]);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: { entries: any[]; nextCursor: string | null } = await audit(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(summary(page.entries));
      cursor = page.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(pages, [
      ['ada jobs.cancel 200', 'grace jobs.retry 200'],
      ['ada jobs.cancel 404', 'grace jobs.cancel 409'],
      ['ada jobs.cancel 200'],
    ]);
  });

  it('answers bad filters with 400 naming the parameter', async () => {
    assertFieldError(
      assertProblem(await service.call('GET', '/api/audit?cursor=abc', { headers: callers.root.headers }), 400),
      'cursor',
    );
    assertFieldError(
      assertProblem(await service.call('GET', '/api/audit?outcome=maybe', { headers: callers.root.headers }), 400),
      'outcome',
    );
    assertFieldError(
      assertProblem(await service.call('GET', '/api/audit?from=yesterday', { headers: callers.root.headers }), 400),
      'from',
    );
    assertFieldError(
      assertProblem(await service.call('GET', '/api/audit?limit=0', { headers: callers.root.headers }), 400),
      'limit',
    );
    assertProblem(await service.call('GET', '/api/audit?who=ada', { headers: callers.root.headers }), 400);
  });

  it('documents GET /api/audit in OpenAPI', async () => {
    const document = (await service.call('GET', '/openapi.json')).body;
    const operation = document.paths['/api/audit'].get;
    assert.equal(operation.operationId, 'listAudit');
    assert.deepEqual(operation.parameters.map((parameter: { name: string }) => parameter.name).sort(), [
      'action',
      'cursor',
      'from',
      'limit',
      'outcome',
      'principal',
      'target',
      'to',
    ]);
  });

  describe('retention', () => {
    it('prunes entries past retention with pruneServiceRecords, and rate limit keys whole again', async () => {
      const { job } = await service.client().enqueue(noop, null);
      await service.client().cancel(job.id);
      await service.call('POST', `/api/jobs/${job.id}/retry`, { headers: callers.ada.headers });
      clock.advance(2 * DAY_MS);
      await service.call('POST', `/api/jobs/${UNKNOWN_ID}/cancel`, { headers: callers.ada.headers });
      const pruned = await pruneServiceRecords(service.client().store, { now: clock.now(), retentionDays: 1 });
      assert.deepEqual(pruned, { auditEntries: 1, rateLimitKeys: 1 });
      assert.deepEqual(
        (await audit()).entries.map((entry) => entry.action),
        ['jobs.cancel'],
      );
    });

    it('prunes from the service itself: at start, then every pruneIntervalMs, until closed', async () => {
      const { job } = await service.client().enqueue(noop, null);
      await service.call('POST', `/api/jobs/${job.id}/cancel`, { headers: callers.ada.headers });
      clock.advance(91 * DAY_MS);
      await service.call('POST', `/api/jobs/${UNKNOWN_ID}/cancel`, { headers: callers.ada.headers });
      // A second server on the same client, with the default retention of 90 days.
      const second = createServer({ client: service.client(), logger: silentLogger, audit: { pruneIntervalMs: 60_000 } });
      await second.ready();
      // Closing waits for the run in progress, the one started when the server was ready.
      await second.close();
      assert.deepEqual(
        (await audit()).entries.map((entry) => entry.target),
        [UNKNOWN_ID],
      );
    });

    it('runs one prune per ServicePruner start and stop', async () => {
      await service.call('POST', `/api/jobs/${UNKNOWN_ID}/cancel`, { headers: callers.ada.headers });
      clock.advance(2 * DAY_MS);
      const pruner = new ServicePruner(service.client(), { retentionDays: 1, intervalMs: 60_000 });
      pruner.start();
      await pruner.stop();
      assert.deepEqual((await audit()).entries, []);
    });

    it('refuses bad audit options', () => {
      assert.throws(
        () => resolveServiceOptions({ client: service.client(), audit: { retentionDays: 0, pruneIntervalMs: 5 } }),
        (error: unknown) =>
          error instanceof ValidationError &&
          ['audit.retentionDays', 'audit.pruneIntervalMs'].every((path) => error.issues.some((issue) => issue.path === path)),
      );
      const resolved = resolveServiceOptions({ client: service.client() });
      assert.deepEqual(resolved.audit, { retentionDays: 90, pruneIntervalMs: 3_600_000 });
    });
  });
}
