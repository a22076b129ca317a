import type { FastifyInstance } from 'fastify';
import type { Role } from '../../../src/service/access.js';
import { PROBLEM_CONTENT_TYPE } from '../../../src/service/schemas/common.js';

/** Headers of the stand-in below: who calls, and a refusal to answer with. */
export const PRINCIPAL_HEADER = 'x-test-principal';
export const REFUSE_HEADER = 'x-test-refuse';

/**
 * actAsHeaderPrincipal stands in for authentication (built apart) in these tests: a request's
 * principal is the id in the `x-test-principal` header (an operator, or the role after a
 * colon: `ada:admin`), none without it; `x-test-refuse: 401` or `403` refuses the call as
 * authentication would, before the body is read.
 */
export function actAsHeaderPrincipal(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers[PRINCIPAL_HEADER];
    if (typeof header === 'string') {
      const [id = header, role = 'operator'] = header.split(':');
      request.principal = { id, name: `${id} (test)`, role: role as Role, via: 'api-key' };
    } else request.principal = null;
    const refusal = Number(request.headers[REFUSE_HEADER]);
    if (refusal === 401 || refusal === 403) {
      const title = refusal === 401 ? 'Unauthorized' : 'Forbidden';
      const body = { type: 'about:blank', title, status: refusal, detail: title, code: 'TEST_REFUSED' };
      return reply.code(refusal).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
    }
  });
}

/** as builds the headers of a call by `principal` (see actAsHeaderPrincipal). */
export function as(principal: string, headers: Record<string, string> = {}): Record<string, string> {
  return { [PRINCIPAL_HEADER]: principal, ...headers };
}
