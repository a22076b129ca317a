import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import { createJsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Jobyard } from '../core/index.js';
import { OptionChecker } from '../core/validation.js';
import { Scheduler } from '../scheduler/index.js';
import { access } from './access.js';
import { EventStreams } from './event-streams.js';
import { problem, problemOf, sendProblem } from './problem.js';
import { assertStorable } from './request-checks.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { previewRoute, scheduleRoutes } from './routes/schedules.js';

/** JobyardServiceOptions configure the HTTP service plugin. */
export interface JobyardServiceOptions {
  /** The client whose jobs, queues and tasks the API serves. */
  client: Jobyard;
  /**
   * The scheduler whose schedules the API serves. Without one, only the schedule preview of
   * the schedule routes is registered. @defaultValue none
   */
  scheduler?: Scheduler;
  /** Largest request body in bytes; a larger one is answered 413. @defaultValue 1048576 (1 MiB) */
  bodyLimit?: number;
  /**
   * Serve the OpenAPI 3.1 document at `/openapi.json` and Swagger UI at `/docs`. Turn it off
   * when the host app registers `@fastify/swagger` itself (it can be registered once per
   * context). @defaultValue true
   */
  docs?: boolean;
  /** How long `/health/ready` waits for the store's ping before reporting it not ready, in ms. @defaultValue 2000 */
  readyTimeoutMs?: number;
  /**
   * Interval of the heartbeat comment on `GET /api/events` streams, in ms (keeps proxies from
   * closing an idle stream and notices dead clients). @defaultValue 15000
   */
  eventsHeartbeatMs?: number;
}

/** ResolvedServiceOptions are JobyardServiceOptions validated, with defaults filled in. */
export interface ResolvedServiceOptions {
  client: Jobyard;
  scheduler: Scheduler | null;
  bodyLimit: number;
  docs: boolean;
  readyTimeoutMs: number;
  eventsHeartbeatMs: number;
}

/** resolveServiceOptions validates the service options (one ValidationError naming every bad field) and fills in defaults. */
export function resolveServiceOptions(options: JobyardServiceOptions): ResolvedServiceOptions {
  const checker = new OptionChecker();
  if (!(options?.client instanceof Jobyard)) checker.problem('client', 'expected a Jobyard client');
  if (options?.scheduler !== undefined && !(options.scheduler instanceof Scheduler)) {
    checker.problem('scheduler', 'expected a Scheduler');
  }
  const bodyLimit = checker.integer('bodyLimit', options?.bodyLimit, 1, 100 * 1024 * 1024) ?? 1024 * 1024;
  const readyTimeoutMs = checker.integer('readyTimeoutMs', options?.readyTimeoutMs, 1, 60_000) ?? 2000;
  const eventsHeartbeatMs = checker.integer('eventsHeartbeatMs', options?.eventsHeartbeatMs, 10, 3_600_000) ?? 15_000;
  if (options?.docs !== undefined && typeof options.docs !== 'boolean') checker.problem('docs', 'expected a boolean');
  checker.throwIfAny('Invalid service options');
  return {
    client: options.client,
    scheduler: options.scheduler ?? null,
    bodyLimit,
    docs: options.docs ?? true,
    readyTimeoutMs,
    eventsHeartbeatMs,
  };
}

/**
 * jobyardService is the HTTP API as a Fastify plugin for an app to register, with a prefix
 * if it likes: `/health`, `/health/ready`, `/api/...`, `/openapi.json` and `/docs` (see
 * docs/api.md). It is encapsulated: its zod validation, problem JSON errors and body limit
 * apply to its own routes only. Under a prefix it also answers unknown routes below that
 * prefix with a problem 404; the app's other routes are left alone. There is no
 * authentication yet: expose it only where every caller may steer every job.
 */
export const jobyardService: FastifyPluginAsync<JobyardServiceOptions> = async (app, options) => {
  const { client, scheduler, bodyLimit, docs, readyTimeoutMs, eventsHeartbeatMs } = resolveServiceOptions(options);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  answerWithProblems(app, { notFound: app.prefix !== '' });
  acceptEmptyJsonBodies(app);
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimit;
    requireAccess(app.prefix, route);
  });
  app.addHook('preValidation', async (request) => {
    assertStorable(request.params, '');
    assertStorable(request.query, '');
    assertStorable(request.body, '');
  });
  if (docs) await registerDocs(app);
  await app.register(healthRoutes, { store: client.store, readyTimeoutMs });
  await app.register(jobRoutes, { client });
  await app.register(previewRoute);
  if (scheduler) await app.register(scheduleRoutes, { scheduler });
  const streams = new EventStreams(client, eventsHeartbeatMs);
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => streams.closeAll());
  await app.register(eventRoutes, { streams });
};

/**
 * requireAccess makes every route of the service declare its access (least role and action
 * name) in `config.access`, so that no route escapes auth, rate limits and audit by being
 * forgotten. The docs (Swagger UI and the OpenAPI document) are public.
 */
function requireAccess(prefix: string, route: RouteOptions): void {
  if (route.config?.access !== undefined) return;
  const path = route.url.slice(prefix.length);
  if (path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')) {
    route.config = { ...route.config, ...access('public', 'docs.read', { mutates: false }) };
    return;
  }
  throw new Error(`jobyard service route ${route.method} ${route.url} declares no config.access`);
}

/**
 * answerWithProblems makes a Fastify context answer every error as RFC 9457 problem JSON,
 * and with `notFound` also unknown routes (a context can set that once per prefix).
 */
export function answerWithProblems(app: FastifyInstance, { notFound }: { notFound: boolean }): void {
  app.setErrorHandler((error, request, reply) => {
    const body = problemOf(error);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, body);
  });
  if (notFound) {
    app.setNotFoundHandler((request, reply) => {
      const url = request.url.length > 200 ? `${request.url.slice(0, 200)}...` : request.url;
      return sendProblem(reply, problem('JOBYARD_ROUTE_NOT_FOUND', `No route ${request.method} ${url}`));
    });
  }
}

/**
 * acceptEmptyJsonBodies lets a request declare `Content-Type: application/json` with no body
 * (what many clients send with a bodiless POST such as cancel); Fastify's own parser refuses it.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  // Fastify's default JSON parser, with prototype poisoning refused; it takes a callback.
  const parseJson = app.getDefaultJsonParser('error', 'error') as (
    request: FastifyRequest,
    body: string,
    done: (error: Error | null, body?: unknown) => void,
  ) => void;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') done(null, undefined);
    else parseJson(request, text, done);
  });
}

async function registerDocs(app: FastifyInstance): Promise<void> {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'jobyard',
        version,
        description:
          'Durable jobs and schedules over HTTP. Errors are RFC 9457 problem JSON (`application/problem+json`). ' +
          'No authentication yet: see docs/api.md.',
      },
      tags: [
        { name: 'jobs', description: 'Enqueue, query and steer jobs' },
        { name: 'queues', description: 'Queue statistics' },
        { name: 'schedules', description: 'Schedules and trigger previews' },
        { name: 'events', description: 'Live job and schedule state changes (Server-Sent Events)' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    transform: createJsonSchemaTransform({ skipList: [] }),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
