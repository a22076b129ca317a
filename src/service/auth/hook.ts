import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Store } from '../../store/index.js';
import type { Clock } from '../../types/index.js';
import { type RouteAccess, roleAllows } from '../access.js';
import { problem, sendProblem } from '../problem.js';
import { problemResponses } from '../schemas/common.js';
import { ANONYMOUS_ADMIN, createAuthenticator } from './authenticate.js';
import type { ResolvedAuth } from './options.js';

/** BEARER_SECURITY_SCHEME is the name of the OpenAPI security scheme of bearer tokens. */
export const BEARER_SECURITY_SCHEME = 'bearerAuth';

/** bearerSecurityScheme is the OpenAPI security scheme every non-public route requires. */
export const bearerSecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  description:
    'An API key (`jy_...`, from `jobyard token create` or `POST /api/tokens`), a JWT, or the dev token. ' +
    'Each operation says the least role it needs: viewer < operator < admin.',
} as const;

const REALM = 'Bearer realm="jobyard"';

/**
 * registerAuth decorates requests with `principal` and adds the hook that sets it and
 * enforces each route's `config.access`: public routes pass (credentials, if sent, are
 * read but never refused), others answer 401 without valid credentials and 403 with too
 * small a role. It runs at onRequest, before the body is even read, so an unauthenticated
 * caller learns nothing from body limits, media types or validation. Routes without access
 * (the not-found handler) pass: a 404 tells nothing the public OpenAPI document does not.
 * With auth off, every request acts as an anonymous admin and a warning is logged now.
 */
export function registerAuth(
  app: FastifyInstance,
  { auth, store, clock, docs }: { auth: ResolvedAuth; store: Store; clock: Clock; docs: boolean },
): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
  if (!auth.enabled) {
    app.log.warn(
      'jobyard service: AUTHENTICATION IS OFF (auth: false). Every request acts as an anonymous admin that may ' +
        'enqueue, cancel and delete anything. Use it only for local development, never on a reachable address.',
    );
    app.addHook('onRequest', async (request) => {
      request.principal = ANONYMOUS_ADMIN;
    });
    return;
  }
  if (auth.devTokenHash !== null) app.log.warn('jobyard service: a dev token is registered as an admin key (local runs only)');
  const authenticate = createAuthenticator(auth, store, clock);
  app.addHook('onRoute', (route) => documentAccess(route, { security: docs }));
  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access;
    if (access === undefined) return;
    if (access.role === 'public') {
      if (request.headers.authorization === undefined) return;
      const result = await authenticate(request.headers.authorization).catch(() => null);
      if (result !== null && 'principal' in result) request.principal = result.principal;
      return;
    }
    const result = await authenticate(request.headers.authorization);
    if ('failure' in result) {
      const challenge = result.missing ? REALM : `${REALM}, error="invalid_token"`;
      return sendProblem(reply.header('www-authenticate', challenge), problem('JOBYARD_UNAUTHENTICATED', result.failure));
    }
    request.principal = result.principal;
    if (!roleAllows(result.principal.role, access.role)) return refuse(request, reply, access);
  });
}

function refuse(request: FastifyRequest, reply: FastifyReply, access: RouteAccess): FastifyReply {
  const principal = request.principal;
  const detail =
    `${request.method} ${request.routeOptions.url} (${access.action}) needs the ${access.role} role; ` +
    `${principal?.name} has ${principal?.role}`;
  return sendProblem(
    reply.header('www-authenticate', `${REALM}, error="insufficient_scope"`),
    problem('JOBYARD_FORBIDDEN', detail),
  );
}

/** ACCESS_EXTENSION is the OpenAPI extension field in which every operation states its access (role, action, mutates). */
export const ACCESS_EXTENSION = 'x-jobyard-access';

type DocumentedSchema = RouteOptions['schema'] & { description?: string; hide?: boolean; [ACCESS_EXTENSION]?: RouteAccess };

/**
 * documentAccess states every route's access in its OpenAPI operation (ACCESS_EXTENSION)
 * and adds to each non-public one its least role (in the description), its 401 and 403
 * answers and, with `security` (the service serves its own document, which declares the
 * scheme), the bearer security requirement that Swagger UI's Authorize button applies.
 */
function documentAccess(route: RouteOptions, { security }: { security: boolean }): void {
  const access = route.config?.access;
  const schema = route.schema as DocumentedSchema | undefined;
  // A HEAD route is made from its GET route's options, already documented.
  if (access === undefined || schema === undefined || schema.hide || schema[ACCESS_EXTENSION] !== undefined) return;
  if (access.role === 'public') {
    route.schema = { ...schema, [ACCESS_EXTENSION]: access } as RouteOptions['schema'];
    return;
  }
  const needs = `Requires the \`${access.role}\` role${access.role === 'admin' ? '' : ' or above'} (action \`${access.action}\`).`;
  route.schema = {
    ...schema,
    [ACCESS_EXTENSION]: access,
    ...(security ? { security: [{ [BEARER_SECURITY_SCHEME]: [] }] } : {}),
    description: schema.description ? `${schema.description}\n\n${needs}` : needs,
    response: { ...(schema.response as object), ...problemResponses(401, 403) },
  } as RouteOptions['schema'];
}
