import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { ROLES, type Role } from '../../../src/service/access.js';
import { createApiToken } from '../../../src/service/index.js';
import { type Answer, assertProblem, bearer, type MakeStore, useService } from './fixtures.js';

interface Operation {
  method: InjectOptions['method'];
  path: string;
  role: Role | 'public';
  action: string;
  hasBody: boolean;
}

/** A value for every path parameter: auth is decided before the parameters are even validated. */
const PATH_PARAMETER = '01890000-0000-7000-8000-000000000000';

/**
 * accessMatrixSuite walks every operation of the generated OpenAPI document and proves its
 * access rule over HTTP: a non-public one answers 401 without credentials (and with a bad
 * token), 403 for every role below its least role, and neither with its least role; a
 * public one answers without credentials. The document is the source, so a route added
 * later is checked without touching this test.
 */
export function accessMatrixSuite(makeStore: MakeStore): void {
  const service = useService(makeStore);

  it('answers 401 without credentials, 403 below the least role and neither at it, on every operation of the OpenAPI document', async () => {
    const document = (await service.call('GET', '/openapi.json')).body;
    const operations: Operation[] = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => {
          const access = operation['x-jobyard-access'];
          assert.ok(access, `${method.toUpperCase()} ${path} states its access`);
          if (access.role !== 'public') {
            assert.deepEqual(operation.security, [{ bearerAuth: [] }], `${method} ${path} security`);
            assert.match(operation.description, new RegExp(`Requires the \`${access.role}\` role`));
            assert.ok(operation.responses['401'] && operation.responses['403'], `${method} ${path} documents 401 and 403`);
          } else assert.equal(operation.security, undefined);
          return {
            method: method.toUpperCase() as Operation['method'],
            // The event stream never ends; a bad filter makes it answer 400 once auth let it through.
            path: path.endsWith('/api/events') ? `${path}?type=none` : path.replace(/\{\w+\}/g, PATH_PARAMETER),
            role: access.role,
            action: access.action,
            hasBody: operation.requestBody !== undefined,
          };
        }),
    );
    assert.ok(operations.filter((operation) => operation.role !== 'public').length >= 15, 'the API operations are there');
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      assert.ok(
        operations.some((operation) => operation.role === role),
        `some operation needs ${role}`,
      );
    }

    const secrets = {} as Record<Role, string>;
    for (const role of ROLES)
      secrets[role] = (await createApiToken(service.client().store, { name: `${role}-key`, role })).secret;

    const send = (operation: Operation, headers: Record<string, string>): Promise<Answer> =>
      service.call(operation.method, operation.path, {
        // An empty body: whatever validation would say must not come before auth.
        headers: { ...(operation.hasBody ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(operation.hasBody ? { payload: '{}' } : {}),
      });

    for (const operation of operations) {
      const where = `${operation.method} ${operation.path} (${operation.action}, ${operation.role})`;
      if (operation.role === 'public') {
        const answer = await send(operation, { authorization: '' });
        assert.ok(answer.status !== 401 && answer.status !== 403, `${where} without credentials: ${answer.status}`);
        continue;
      }
      for (const headers of [{ authorization: '' }, bearer('jy_not-a-real-key'), bearer(`jy_${'A'.repeat(43)}`)]) {
        const answer = await send(operation, headers);
        assertProblem(answer, 401, 'JOBYARD_UNAUTHENTICATED');
        assert.match(String(answer.headers['www-authenticate']), /^Bearer realm="jobyard"/, where);
      }
      const least = ROLES.indexOf(operation.role);
      for (const role of ROLES) {
        const answer = await send(operation, bearer(secrets[role]));
        if (ROLES.indexOf(role) < least) {
          const problem = assertProblem(answer, 403, 'JOBYARD_FORBIDDEN');
          assert.match(problem.detail, new RegExp(`needs the ${operation.role} role`), where);
        } else {
          assert.ok(answer.status !== 401 && answer.status !== 403, `${where} as ${role}: ${answer.status} ${answer.raw}`);
        }
      }
    }
  });
}
