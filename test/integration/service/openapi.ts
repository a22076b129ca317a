import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { Jobyard } from '../../../src/core/index.js';
import { Scheduler } from '../../../src/scheduler/index.js';
import { jobyardService } from '../../../src/service/index.js';
import { assertProblem, inject, type MakeStore, noop, sendEmail, silentLogger } from './fixtures.js';

const PREFIX = '/jobyard';

/** openApiSuite mounts the plugin in a host app under a prefix, as an existing app would, and checks its OpenAPI document. */
export function openApiSuite(makeStore: MakeStore): void {
  let current: { host: FastifyInstance; client: Jobyard; routes: RouteOptions[]; cleanup: () => Promise<void> } | undefined;
  beforeEach(async () => {
    const { store, cleanup } = await makeStore();
    const client = new Jobyard({ store, tasks: [sendEmail, noop], logger: silentLogger });
    const host = Fastify({ loggerInstance: silentLogger }) as unknown as FastifyInstance;
    const routes: RouteOptions[] = [];
    host.addHook('onRoute', (route) => {
      routes.push(route);
    });
    host.get('/host-route', async () => ({ from: 'host' }));
    host.register(jobyardService, { prefix: PREFIX, client, scheduler: new Scheduler(client) });
    await host.ready();
    current = { host, client, routes, cleanup };
  });
  afterEach(async () => {
    await current?.host.close();
    await current?.client.close();
    await current?.cleanup();
    current = undefined;
  });

  const openApiDocument = async () => {
    assert.ok(current);
    const answer = await inject(current.host, { method: 'GET', url: `${PREFIX}/openapi.json` });
    assert.equal(answer.status, 200, answer.raw);
    return answer.body;
  };

  it('serves an OpenAPI 3.1 document that the OpenAPI schema validator accepts', async () => {
    const document = await openApiDocument();
    assert.equal(document.openapi, '3.1.0');
    const result = await new Validator().validate(document);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('documents every route it registers, and nothing else', async () => {
    assert.ok(current);
    const document = await openApiDocument();
    const documented = new Set(
      Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const registered = new Set(
      current.routes
        .filter((route) => route.url.startsWith(PREFIX) && !route.url.startsWith(`${PREFIX}/docs`))
        .filter((route) => route.url !== `${PREFIX}/openapi.json`)
        .flatMap((route) => [route.method].flat().map((method) => `${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`))
        .filter((operation) => !operation.startsWith('HEAD ')),
    );
    assert.ok(registered.size >= 15, `expected the API routes, got ${[...registered]}`);
    assert.deepEqual([...documented].sort(), [...registered].sort());
    const operationIds = Object.values(document.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(
      (operations) => Object.values(operations).map((operation) => operation.operationId),
    );
    assert.ok(
      operationIds.every((id) => typeof id === 'string'),
      'every operation has an operationId',
    );
    assert.equal(new Set(operationIds).size, operationIds.length, 'operationIds are unique');
  });

  it('documents problem JSON for every error answer and a schema for every success (JSON, the event stream text/event-stream)', async () => {
    const document = await openApiDocument();
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
          const types = Object.keys(response.content ?? {});
          const where = `${method.toUpperCase()} ${path} ${status}`;
          if (path.endsWith('/metrics') && status === '200') {
            assert.deepEqual(types, ['text/plain; version=0.0.4; charset=utf-8'], where);
          } else if (path.endsWith('/api/events') && status === '200') {
            assert.deepEqual(types, ['text/event-stream'], where);
          } else if (Number(status) >= 400 && !path.endsWith('/health/ready')) {
            assert.deepEqual(types, ['application/problem+json'], where);
          } else if (status === '204') assert.deepEqual(types, [], where);
          else assert.deepEqual(types, ['application/json'], where);
        }
      }
    }
  });

  it('serves Swagger UI at /docs', async () => {
    assert.ok(current);
    const answer = await inject(current.host, { method: 'GET', url: `${PREFIX}/docs/` });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /text\/html/);
    assert.match(answer.raw, /swagger/i);
  });

  it('leaves the host app alone and answers unknown routes under its prefix with a problem 404', async () => {
    assert.ok(current);
    assert.deepEqual((await inject(current.host, { method: 'GET', url: '/host-route' })).body, { from: 'host' });
    assertProblem(await inject(current.host, { method: 'GET', url: `${PREFIX}/api/nope` }), 404, 'JOBYARD_ROUTE_NOT_FOUND');
    const health = await inject(current.host, { method: 'GET', url: `${PREFIX}/health` });
    assert.equal(health.status, 200);
    const hostNotFound = await inject(current.host, { method: 'GET', url: '/elsewhere' });
    assert.equal(hostNotFound.status, 404);
    assert.doesNotMatch(String(hostNotFound.headers['content-type']), /problem/);
  });
}
